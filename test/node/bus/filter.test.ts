import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchesFilter, matchesPattern, patternProblem } from "../../../durable-objects/logic/filter.ts";

/** The obvious matcher, through a regular expression built from the pattern. */
function referenceMatch(pattern: string, type: string): boolean {
  const segments = pattern.split(".");
  const parts = segments.map((s, i) => {
    if (s === "*") return "[^.]*";
    if (s === ">" && i === segments.length - 1) return ".*";
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("\\.")}$`, "s").test(type);
}

const segment = fc.constantFrom("order", "created", "a", "b", "", "x-y", "ünï");
const typeArb = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join("."));
const patternArb = fc
  .tuple(fc.array(fc.oneof(segment, fc.constant("*")), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([segs, tail]) => (tail ? [...segs.slice(0, -1), ">"] : segs).join("."))
  .filter((p) => p.length > 0);

describe("filter matching", () => {
  it.each([
    ["order.*", "order.created", true],
    ["order.*", "order.created.eu", false],
    ["order.*", "order", false],
    ["order.>", "order.created", true],
    ["order.>", "order.created.eu", true],
    ["order.>", "order", false],
    [">", "anything.at.all", true],
    ["*.created", "invoice.created", true],
    ["order.created", "order.created", true],
    ["order.created", "order.updated", false],
  ])("%s against %s is %s", (pattern, type, expected) => {
    expect(matchesPattern(pattern, type)).toBe(expected);
  });

  it("agrees with a regular-expression reference on generated patterns and types", () => {
    fc.assert(
      fc.property(patternArb, typeArb, (pattern, type) => {
        expect(patternProblem(pattern)).toBeUndefined();
        expect(matchesPattern(pattern, type)).toBe(referenceMatch(pattern, type));
      }),
      { numRuns: 2000 },
    );
  });

  it("matches everything with no filter, and any pattern of a list", () => {
    expect(matchesFilter(undefined, "x")).toBe(true);
    expect(matchesFilter([], "x")).toBe(true);
    expect(matchesFilter(["a.*", "b.>"], "b.c.d")).toBe(true);
    expect(matchesFilter(["a.*", "b.>"], "c.d")).toBe(false);
  });

  it.each(["", "order.>.x", "ord*er", "order.>x", "x".repeat(129)])("rejects the pattern %j", (p) => {
    expect(patternProblem(p)).toBeDefined();
  });

  it("stays linear on adversarial input", () => {
    const type = `${"a.".repeat(60)}b`;
    const pattern = `${"*.".repeat(60)}c`;
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) matchesPattern(pattern, type);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
