/**
 * The client's call tables (shared/client/*) say the same as the Worker's operation tables
 * (workers/<capability>/operations.ts): the same method and path, and the same RPC arguments in
 * the same order. An operation changed on one side only fails here.
 */
import { describe, expect, it } from "vitest";
import { BUS_CALLS } from "../../../shared/client/bus.ts";
import { LOCK_CALLS } from "../../../shared/client/locks.ts";
import { MIRROR_CALLS } from "../../../shared/client/mirror.ts";
import { QUEUE_CALLS } from "../../../shared/client/queue-api.ts";
import { STATE_CALLS } from "../../../shared/client/state.ts";
import { TOKEN_CALLS } from "../../../shared/client/tokens.ts";
import type { CallTable } from "../../../shared/client/transport.ts";
import { BREAKER_CALLS } from "../../../shared/resilience/breaker-client.ts";
import type { AnyDeclared } from "../../../workers/declare/table.ts";
import { MOUNTED } from "../operations.ts";

/** Each client table, and where the Worker mounts the operations it calls. */
const PAIRS: Array<[string, CallTable, keyof typeof MOUNTED]> = [
  ["locks", LOCK_CALLS, "/v1/locks"],
  ["breakers", BREAKER_CALLS, "/v1/breakers"],
  ["topics", BUS_CALLS, "/v1/topics"],
  ["state", STATE_CALLS, "/v1/state"],
  ["mirrors", MIRROR_CALLS, "/v1/mirrors"],
  ["tokens", TOKEN_CALLS, "/v1/tokens"],
  ["queues", QUEUE_CALLS, "/v1/queues"],
];

describe("the client's calls", () => {
  it.each(PAIRS)("%s: the declared method, path and RPC arguments", (_name, calls, mount) => {
    const operations: Record<string, AnyDeclared> = MOUNTED[mount];
    for (const [method, call] of Object.entries(calls)) {
      const declared = operations[method];
      expect(declared, method).toBeDefined();
      if (!declared) continue;
      const [verb, path] = declared.http.split(" ");
      expect(call.http, method).toBe(`${verb} ${`${mount}${path}`.replace(/\/$/, "")}`);
      if (Array.isArray(declared.rpc)) expect(call.args, method).toEqual(declared.rpc);
    }
  });
});
