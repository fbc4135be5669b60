import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planPushes } from "../../../durable-objects/logic/push-plan.ts";

describe("planPushes", () => {
  it("splits a backlog fairly, and keeps small batches whole", () => {
    expect(planPushes([100, 100], 150, 0, 32)).toEqual([
      { socket: 0, count: 75 },
      { socket: 1, count: 75 },
    ]);
    // 100 between 8 sockets: 32 each to the first ones rather than 13 to everyone.
    expect(planPushes(Array(8).fill(100), 100, 0, 32)).toEqual([
      { socket: 0, count: 32 },
      { socket: 1, count: 32 },
      { socket: 2, count: 32 },
      { socket: 3, count: 4 },
    ]);
  });

  it("goes round: the next plan starts at the turn, skipping sockets without credit", () => {
    expect(planPushes([5, 5, 5], 1, 1, 32)).toEqual([{ socket: 1, count: 1 }]);
    expect(planPushes([5, 0, 5], 1, 1, 32)).toEqual([{ socket: 2, count: 1 }]);
    expect(planPushes([5, 0, 0], 3, 2, 1)).toEqual([{ socket: 0, count: 3 }]);
    expect(planPushes([], 3, 0, 32)).toEqual([]);
  });

  it("gives each socket at most its credit, all that fits, and every socket with credit a turn before any gets a second", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 500 }),
        fc.nat(),
        fc.integer({ min: 1, max: 40 }),
        (credits, ready, turn, minTurn) => {
          const plan = planPushes(credits, ready, turn, minTurn);
          const total = plan.reduce((sum, p) => sum + p.count, 0);
          expect(total).toBe(
            Math.min(
              ready,
              credits.reduce((a, b) => a + b, 0),
            ),
          );
          expect(new Set(plan.map((p) => p.socket)).size).toBe(plan.length);
          for (const p of plan) {
            expect(p.count).toBeGreaterThan(0);
            expect(p.count).toBeLessThanOrEqual(credits[p.socket] as number);
          }
          // Fair: a socket left out while another got more than the least turn had credit only if nothing was left.
          const share = Math.max(
            minTurn,
            Math.ceil(ready / Math.max(1, credits.filter((c) => c > 0).length)),
          );
          for (const p of plan)
            expect(p.count <= share || plan.length === credits.filter((c) => c > 0).length).toBe(true);
        },
      ),
    );
  });
});
