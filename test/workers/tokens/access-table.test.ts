/**
 * Walks every operation of the OpenAPI document: each `/v1` route must declare its access
 * (`x-switchyard-access`), the declaration must match the contract's table (a reference model),
 * and tokens of each action must be let through or refused (403) accordingly, over HTTP.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ACTIONS_BY_CAPABILITY,
  allows,
  CAPABILITIES,
  type Capability,
  type Principal,
} from "../../../workers/http/access.ts";
import { NAME_PARAM } from "../../../workers/http/operation.ts";
import { call, unique } from "../helpers.ts";
import { mint } from "./helpers.ts";
import { type ModelScope, modelAccess, modelAllows } from "./model.ts";

interface Operation {
  method: string;
  path: string;
  operationId: string;
  access: string | undefined;
  public: boolean;
}

let operations: Operation[] = [];

beforeAll(async () => {
  const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
  operations = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      operations.push({
        method,
        path,
        operationId: String(op.operationId),
        access: op["x-switchyard-access"],
        public: Array.isArray(op.security) && op.security.length === 0,
      });
    }
  }
});

const v1 = () => operations.filter((op) => op.path.startsWith("/v1/"));

/** The declared capability and action of an operation (admin-token: none). */
function declared(op: Operation): { capability: Capability; action: string } | "admin-token" {
  if (op.access === "admin-token") return "admin-token";
  const [capability, action] = (op.access ?? "").split(":") as [Capability, string];
  return { capability, action };
}

/** Whether the route's path holds the capability's name parameter. */
function named(op: Operation, capability: Capability): boolean {
  const param = NAME_PARAM[capability];
  return param !== undefined && op.path.includes(`{${param}}`);
}

/** A concrete request path for an operation, with `name` as the resource name. */
function concrete(op: Operation, name: string): string {
  return op.path
    .replace(/\{(name|queue|topic|namespace)\}/g, name)
    .replace("{key}", "k")
    .replace("{id}", "tk_none");
}

async function statusWith(op: Operation, name: string, token: string): Promise<number> {
  const body = op.method === "get" || op.method === "delete" ? undefined : {};
  return (await call(op.method.toUpperCase(), concrete(op, name), body, { token })).status;
}

describe("every operation's access", () => {
  it("is declared on every /v1 operation and matches the contract's table; the rest are public", () => {
    expect(v1().length).toBeGreaterThan(40);
    for (const op of operations) {
      if (!op.path.startsWith("/v1/")) {
        expect(op.public, `${op.operationId} outside /v1 must be public`).toBe(true);
        continue;
      }
      expect(op.access, `${op.method} ${op.path} declares no x-switchyard-access`).toBeDefined();
      expect(declared(op), `${op.method} ${op.path}`).toEqual(modelAccess(op.method, op.path));
    }
  });

  it("lets a token of the operation's action through and refuses every other action with 403", async () => {
    const name = unique("acl");
    const tokens = new Map<string, string>();
    for (const capability of CAPABILITIES) {
      for (const action of ACTIONS_BY_CAPABILITY[capability]) {
        const minted = await mint({ scopes: [{ resource: `${capability}:*`, actions: [action] }] });
        tokens.set(`${capability}:${action}`, minted.token);
      }
    }
    const everything = await mint({
      scopes: CAPABILITIES.map((c) => ({ resource: `${c}:*`, actions: [...ACTIONS_BY_CAPABILITY[c]] })),
    });
    for (const op of v1()) {
      const access = declared(op);
      if (access === "admin-token") {
        expect(await statusWith(op, name, everything.token), `${op.operationId} with a scoped token`).toBe(
          403,
        );
        expect(await statusWith(op, name, "switchyard-dev-token"), op.operationId).not.toBe(403);
        continue;
      }
      for (const [key, token] of tokens) {
        const [capability, action] = key.split(":");
        const want = capability === access.capability && action === access.action;
        const status = await statusWith(op, name, token);
        expect(status, `${op.operationId} with a ${key} token`).not.toBe(401);
        if (want) expect(status, `${op.operationId} with a ${key} token`).not.toBe(403);
        else expect(status, `${op.operationId} with a ${key} token`).toBe(403);
      }
      if (named(op, access.capability)) {
        const elsewhere = await mint({
          scopes: [{ resource: `${access.capability}:${name}-x*`, actions: [access.action] }],
        });
        expect(
          await statusWith(op, name, elsewhere.token),
          `${op.operationId} on a name outside the pattern`,
        ).toBe(403);
      }
    }
  }, 300_000);
});

const SEGMENTS = ["a", "ab", "b", "t-1", "t-1:", "t-1:x", "T"];
const nameArb = fc
  .array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(""));
const patternArb = fc.oneof(
  fc.constant("*"),
  nameArb,
  nameArb.map((n) => `${n}*`),
);
const scopeArb = fc.constantFrom(...CAPABILITIES).chain((capability) =>
  fc.record({
    resource: capability === "db" ? fc.constant("db:*") : patternArb.map((p) => `${capability}:${p}`),
    actions: fc.subarray([...ACTIONS_BY_CAPABILITY[capability]], { minLength: 1 }),
  }),
);
const scopesArb = fc.array(scopeArb, { minLength: 1, maxLength: 4 });

describe("the decision against the reference model", () => {
  it("agrees for random scope sets, routes and names (the decision the guard makes)", () => {
    const routes = v1().filter((op) => op.access !== "admin-token");
    fc.assert(
      fc.property(scopesArb, fc.constantFrom(...routes), nameArb, (scopes, op, name) => {
        const access = declared(op) as { capability: Capability; action: string };
        const model = modelAccess(op.method, op.path) as { capability: string; action: string };
        const principal: Principal = { kind: "scoped", id: "t", scopes: scopes as never, expiresAt: 0 };
        const nameOf = named(op, access.capability) ? name : undefined;
        expect(allows(principal, access.capability, access.action as never, nameOf)).toBe(
          modelAllows(scopes as ModelScope[], model.capability, model.action, nameOf),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees over HTTP for minted tokens (fewer runs: each mints and calls)", async () => {
    const routes = v1().filter((op) => op.access !== "admin-token");
    await fc.assert(
      fc.asyncProperty(scopesArb, fc.constantFrom(...routes), nameArb, async (scopes, op, name) => {
        const model = modelAccess(op.method, op.path) as { capability: string; action: string };
        const nameOf = named(op, model.capability as Capability) ? name : undefined;
        const { token } = await mint({ scopes });
        const status = await statusWith(op, name, token);
        expect(status === 403, `${op.operationId} on ${name} with ${JSON.stringify(scopes)}: ${status}`).toBe(
          !modelAllows(scopes as ModelScope[], model.capability, model.action, nameOf),
        );
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
