import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowance } from "../../../durable-objects/logic/lease-limits.ts";

describe("the allowance", () => {
  it("is the least of what was asked, the tokens and the room under maxLeased, and names the limit that bit", () => {
    expect(allowance(10, Number.POSITIVE_INFINITY, 0, null)).toEqual({ allowed: 10, bitBy: null });
    expect(allowance(10, 3, 0, null)).toEqual({ allowed: 3, bitBy: "rate" });
    expect(allowance(10, Number.POSITIVE_INFINITY, 8, 10)).toEqual({ allowed: 2, bitBy: "concurrency" });
    expect(allowance(10, 5, 12, 10)).toEqual({ allowed: 0, bitBy: "concurrency" });
    expect(allowance(2, 5, 0, 10)).toEqual({ allowed: 2, bitBy: null });
  });

  it("never lets the leased count pass maxLeased", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }))),
        (maxLeased, steps) => {
          let leased = 0;
          for (const [asked, settled] of steps) {
            leased += allowance(asked, Number.POSITIVE_INFINITY, leased, maxLeased).allowed;
            expect(leased).toBeLessThanOrEqual(maxLeased);
            leased -= Math.min(leased, settled);
          }
        },
      ),
    );
  });
});
