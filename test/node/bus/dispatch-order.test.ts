import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareDispatch,
  type DueDelivery,
  deliveryKey,
  dispatchRank,
  planDispatch,
} from "../../../durable-objects/logic/dispatch-order.ts";

const due = (subscriptionId: string, seq: number, rank: number): DueDelivery => ({
  subscriptionId,
  seq,
  rank,
});

describe("dispatch order", () => {
  it("ranks critical first whatever the priority, then high, normal, low", () => {
    expect(dispatchRank("low", true)).toBe(0);
    expect(dispatchRank("critical", false)).toBe(0);
    expect(dispatchRank("high", false)).toBe(1);
    expect(dispatchRank("normal", false)).toBe(2);
    expect(dispatchRank("low", false)).toBe(3);
  });

  it("sends higher ranks first and older events first within a rank", () => {
    const plan = planDispatch(
      [due("s", 1, 3), due("s", 2, 2), due("s", 3, 0), due("s", 4, 2)],
      10,
      new Set(),
    );
    expect(plan.map((d) => d.seq)).toEqual([3, 2, 4, 1]);
  });

  it("never exceeds the free slots and skips deliveries in flight", () => {
    const all = [due("a", 1, 2), due("b", 1, 2), due("a", 2, 2)];
    const plan = planDispatch(all, 2, new Set([deliveryKey(all[0] as DueDelivery)]));
    expect(plan.map(deliveryKey)).toEqual(["b:1", "a:2"]);
    expect(planDispatch(all, 0, new Set())).toEqual([]);
  });

  it("picks, for any input, a prefix of the fully sorted order", () => {
    const arb = fc.array(
      fc.record({
        subscriptionId: fc.constantFrom("a", "b", "c"),
        seq: fc.integer({ min: 1, max: 50 }),
        rank: fc.integer({ min: 0, max: 3 }),
      }),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 10 }), (list, slots) => {
        const unique = [...new Map(list.map((d) => [deliveryKey(d), d])).values()];
        const plan = planDispatch(unique, slots, new Set());
        const sorted = [...unique].sort(compareDispatch);
        expect(plan).toEqual(sorted.slice(0, slots));
      }),
    );
  });
});
