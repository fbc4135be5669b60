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
import { breakerOperations } from "../../../workers/breaker/operations.ts";
import { busOperations } from "../../../workers/bus/operations.ts";
import type { AnyDeclared } from "../../../workers/declare/table.ts";
import { lockOperations } from "../../../workers/lock/operations.ts";
import { mirrorOperations } from "../../../workers/mirror/operations.ts";
import { queueOperations } from "../../../workers/queue/operations.ts";
import { stateOperations } from "../../../workers/state/operations.ts";
import { tokenOperations } from "../../../workers/tokens/routes.ts";

/** Each client table, the Worker's table, and where the Worker mounts its routes. */
const PAIRS: Array<[string, CallTable, Record<string, AnyDeclared>, string]> = [
  ["locks", LOCK_CALLS, lockOperations, "/v1/locks"],
  ["breakers", BREAKER_CALLS, breakerOperations, "/v1/breakers"],
  ["topics", BUS_CALLS, busOperations, "/v1/topics"],
  ["state", STATE_CALLS, stateOperations, "/v1/state"],
  ["mirrors", MIRROR_CALLS, mirrorOperations, "/v1/mirrors"],
  ["tokens", TOKEN_CALLS, tokenOperations, "/v1/tokens"],
  ["queues", QUEUE_CALLS, queueOperations, "/v1/queues"],
];

describe("the client's calls", () => {
  it.each(PAIRS)("%s: the declared method, path and RPC arguments", (_name, calls, operations, mount) => {
    for (const [method, call] of Object.entries(calls)) {
      const declared = operations[method];
      expect(declared, method).toBeDefined();
      if (!declared) continue;
      const path = `${mount}${declared.route.path}`.replace(/\/$/, "");
      expect(call.http, method).toBe(`${declared.route.method.toUpperCase()} ${path}`);
      if (Array.isArray(declared.rpc)) expect(call.args, method).toEqual(declared.rpc);
    }
  });
});
