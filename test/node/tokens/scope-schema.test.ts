import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resourceProblem, ScopeSchema } from "../../../shared/schemas/tokens.ts";

// The contract's words as one expression: `<capability>:<pattern>`, a pattern being a name, a
// name followed by `*`, or `*`; for db only `*`.
const NAME = "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}";
const MODEL = new RegExp(`^(?:(?:locks|queues|state|topics|breakers):(?:\\*|${NAME}\\*?)|db:\\*)$`);

const piece = fc.constantFrom(
  "locks",
  "queues",
  "db",
  "state",
  "topics",
  "breakers",
  "widgets",
  ":",
  "*",
  "a",
  "-",
  ".",
  "Z9",
  " ",
  "é",
  "",
);
const resource = fc.array(piece, { maxLength: 6 }).map((p) => p.join(""));

describe("scope resources", () => {
  it("are accepted exactly when the contract's grammar says so", () => {
    fc.assert(
      fc.property(resource, (r) => {
        expect(resourceProblem(r) === null, r).toBe(MODEL.test(r));
      }),
      { numRuns: 5000 },
    );
    expect(resourceProblem(`locks:${"a".repeat(128)}`)).toBeNull();
    expect(resourceProblem(`locks:${"a".repeat(129)}`)).not.toBeNull();
    expect(resourceProblem("queues:tenant-42:*")).toBeNull();
  });

  it("take only actions their capability has routes for, each once", () => {
    expect(
      ScopeSchema.safeParse({ resource: "queues:q", actions: ["read", "write", "consume", "admin"] }).success,
    ).toBe(true);
    expect(ScopeSchema.safeParse({ resource: "locks:q", actions: ["admin"] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ resource: "state:q", actions: ["consume"] }).success).toBe(false);
    expect(ScopeSchema.safeParse({ resource: "db:*", actions: ["read", "admin"] }).success).toBe(true);
    expect(ScopeSchema.safeParse({ resource: "db:*", actions: ["admin", "admin"] }).success).toBe(false);
  });
});
