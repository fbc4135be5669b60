/**
 * "Bad input gets a 4xx with the contract's error shape, never a 5xx": every operation the OpenAPI
 * document lists, driven with random path names, query values and bodies (any JSON, or an object
 * with the operation's own field names holding random values), against the Worker's own fetch;
 * and every declared RPC method, which must answer a `Result` with a contract code, never throw.
 * The database operations are left out: with no Postgres reachable here their answer is the
 * contract's `503 unavailable`.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isErrorCode } from "../../../shared/errors.ts";
import { breakerOperations } from "../../../workers/breaker/operations.ts";
import { busOperations } from "../../../workers/bus/operations.ts";
import type { AnyDeclared } from "../../../workers/declare/table.ts";
import { lockOperations } from "../../../workers/lock/operations.ts";
import { mirrorOperations } from "../../../workers/mirror/operations.ts";
import { queueOperations } from "../../../workers/queue/operations.ts";
import { stateOperations } from "../../../workers/state/operations.ts";
import { call } from "../helpers.ts";

interface Parameter {
  name: string;
  in: string;
}
interface Operation {
  operationId: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: { "application/json"?: { schema?: { $ref?: string } } } };
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

const HTTP_METHODS = new Set(["get", "post", "put", "delete"]);

/** Names as a client might send them: valid, unusual, or not names at all (percent-encoded into the path). */
const pathName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), fc.string({ maxLength: 12 }));

/** Values for a field: any JSON, and the edges of numbers and strings. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2 ** 53, 1e308, -1e-308, "", "x".repeat(300), null, [], {}),
);

function bodyFor(op: Operation, doc: Document): fc.Arbitrary<unknown> {
  const ref = op.requestBody?.content?.["application/json"]?.schema?.$ref;
  const fields = Object.keys((ref && doc.components.schemas[ref.split("/").at(-1) ?? ""]?.properties) ?? {});
  const shaped =
    fields.length === 0
      ? fc.constant({})
      : fc.record(Object.fromEntries(fields.map((f) => [f, fieldValue])), { requiredKeys: [] });
  return fc.oneof(shaped, shaped, fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
}

describe("never a 5xx for bad input", () => {
  it("answers every operation's random input below 500, errors in the contract's shape", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body as unknown as Document;
    let operations = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      if (!template.startsWith("/v1/") || template.startsWith("/v1/db")) continue;
      for (const [method, op] of Object.entries(item)) {
        if (!HTTP_METHODS.has(method)) continue;
        operations++;
        const names = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        const queries = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
        const input = fc.record({
          params: fc.tuple(...names.map(() => pathName)),
          query: fc.dictionary(fc.constantFrom(...(queries.length > 0 ? queries : ["x"])), fc.string(), {
            maxKeys: 3,
          }),
          body: bodyFor(op, doc),
        });
        await fc.assert(
          fc.asyncProperty(input, async ({ params, query, body }) => {
            let path = template;
            names.forEach((name, i) => {
              path = path.replace(`{${name}}`, encodeURIComponent(params[i] as string));
            });
            const search = new URLSearchParams(query).toString();
            const sent = method === "get" || method === "delete" ? undefined : body;
            const res = await call(method.toUpperCase(), `${path}${search ? `?${search}` : ""}`, sent);
            const what = `${op.operationId} ${method.toUpperCase()} ${path}?${search} ${JSON.stringify(sent)}`;
            expect(res.status, `${what} → ${res.text}`).toBeLessThan(500);
            if (res.status >= 400) expect(res.error, `${what} → ${res.text}`).toBeDefined();
          }),
          { numRuns: 20 },
        );
      }
    }
    // The document has every route: a document that lost its paths must not pass this vacuously.
    expect(operations).toBeGreaterThan(60);
  }, 120_000);

  it("answers every declared RPC method's random arguments with a Result, never a throw", async () => {
    const rpc = exports.SwitchyardRpc;
    const targets: Array<[string, Record<string, AnyDeclared>, () => Promise<object>]> = [
      ["locks", lockOperations, () => rpc.locks()],
      ["breakers", breakerOperations, () => rpc.breakers()],
      ["topics", busOperations, () => rpc.topics()],
      ["state", stateOperations, () => rpc.state()],
      ["mirrors", mirrorOperations, () => rpc.mirrors()],
      ["queues", queueOperations, () => rpc.queues()],
    ];
    // Structured clone carries what JSON cannot: the walk must refuse it, not trip on it.
    const argument = fc.oneof(pathName, fieldValue, fc.constantFrom(Number.NaN, Infinity, undefined));
    let methods = 0;
    for (const [capability, table, target] of targets) {
      const methodsOf = (await target()) as Record<string, (...args: unknown[]) => Promise<unknown>>;
      for (const [method, declared] of Object.entries(table)) {
        if (!Array.isArray(declared.rpc)) continue;
        methods++;
        await fc.assert(
          fc.asyncProperty(fc.tuple(...declared.rpc.map(() => argument)), async (args) => {
            const what = `${capability}().${method}(${args.map((a) => JSON.stringify(a)).join(", ")})`;
            const result = (await methodsOf[method]?.(...args)) as { ok: boolean; error?: { code: string } };
            expect(typeof result?.ok, what).toBe("boolean");
            if (!result.ok)
              expect(isErrorCode(result.error?.code), `${what} → ${JSON.stringify(result)}`).toBe(true);
          }),
          { numRuns: 20 },
        );
      }
    }
    expect(methods).toBeGreaterThan(40);
  }, 120_000);
});
