/**
 * The client's generated call tables (shared/client/calls.ts) say what the Worker's operation
 * tables (workers/tables.ts) do at run time: the same method and path, and the same RPC
 * arguments in the same order. The generator reads the declarations' types; this checks that the
 * values behind those types agree. test/node/client/calls-generated.test.ts checks it is not stale.
 */
import { describe, expect, it } from "vitest";
import * as calls from "../../../shared/client/calls.ts";
import type { CallTable } from "../../../shared/client/transport.ts";
import type { AnyDeclared } from "../../../workers/declare/table.ts";
import { TABLES } from "../../../workers/tables.ts";

/** Each generated table, by the capability whose operations it calls. */
const GENERATED: Array<[keyof typeof TABLES, CallTable]> = [
  ["locks", calls.LOCK_CALLS],
  ["breakers", calls.BREAKER_CALLS],
  ["topics", calls.BUS_CALLS],
  ["state", calls.STATE_CALLS],
  ["mirrors", calls.MIRROR_CALLS],
  ["tokens", calls.TOKEN_CALLS],
  ["queues", calls.QUEUE_CALLS],
];

describe("the client's calls", () => {
  it.each(GENERATED)("%s: the declared method, path, RPC arguments and idempotence", (capability, table) => {
    const { mount, operations } = TABLES[capability];
    const declared: Record<string, AnyDeclared> = operations;
    for (const [method, call] of Object.entries(table)) {
      const operation = declared[method];
      expect(operation, method).toBeDefined();
      if (!operation) continue;
      const [verb, path] = operation.http.split(" ");
      expect(call.http, method).toBe(`${verb} ${`${mount}${path}`.replace(/\/$/, "")}`);
      if (Array.isArray(operation.rpc)) expect(call.args, method).toEqual(operation.rpc);
      expect(call.idempotent, method).toBe("idempotent" in operation ? operation.idempotent : undefined);
    }
  });

  it("has every operation the service binding offers", () => {
    for (const [capability, table] of GENERATED) {
      const offered = Object.entries(TABLES[capability].operations as Record<string, AnyDeclared>)
        .filter(([, operation]) => "call" in operation && Array.isArray(operation.rpc))
        .map(([method]) => method);
      for (const method of offered) expect(table[method], `${capability}.${method}`).toBeDefined();
    }
  });
});
