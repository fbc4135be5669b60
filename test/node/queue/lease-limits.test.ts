import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allowance, LeaseBucket } from "../../../durable-objects/logic/lease-limits.ts";

describe("the rate limit's bucket", () => {
  it("over any window of periodMs, never more than `leases` tasks leased (a restart in between included)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1_000, max: 10_000 }),
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 4_000 }),
            asked: fc.integer({ min: 1, max: 60 }),
            restart: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (leases, periodMs, steps) => {
          let bucket = new LeaseBucket(leases, periodMs);
          let now = 1_000_000;
          const granted: Array<{ at: number; n: number }> = [];
          for (const { dt, asked, restart } of steps) {
            now += dt;
            // A restart rebuilds the bucket from what a store kept.
            if (restart) bucket = new LeaseBucket(leases, periodMs, bucket.live(now));
            const n = allowance(asked, bucket.available(now), 0, null).allowed;
            bucket.take(now, n);
            if (n > 0) granted.push({ at: now, n });
          }
          // Every window [t, t + periodMs) that starts at a grant holds the most a window can.
          for (const start of granted) {
            const inWindow = granted
              .filter((g) => g.at >= start.at && g.at < start.at + periodMs)
              .reduce((sum, g) => sum + g.n, 0);
            expect(inWindow).toBeLessThanOrEqual(leases);
          }
        },
      ),
    );
  });

  it("gives tokens back one period after they were taken, and says when", () => {
    const bucket = new LeaseBucket(10, 1_000);
    bucket.take(0, 6);
    bucket.take(500, 4);
    expect(bucket.available(999)).toBe(0);
    expect(bucket.nextTokenAt(999)).toBe(1_000);
    expect(bucket.available(1_000)).toBe(6);
    expect(bucket.nextTokenAt(1_000)).toBe(1_500);
    expect(bucket.available(1_500)).toBe(10);
    expect(bucket.nextTokenAt(1_500)).toBeNull();
  });

  it("a full bucket's whole limit may go at once, then nothing until the period is over", () => {
    const bucket = new LeaseBucket(100, 60_000);
    expect(bucket.available(0)).toBe(100);
    bucket.take(0, 100);
    expect(bucket.available(59_999)).toBe(0);
    expect(bucket.available(60_000)).toBe(100);
  });
});

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
