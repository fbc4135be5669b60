import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterChild,
  childFailure,
  childResultsText,
  type EndedChild,
  redeliveryDelay,
  treeSize,
} from "../../../durable-objects/logic/flow-rules.ts";

const child = (over: Partial<EndedChild> = {}): EndedChild => ({
  queue: "q",
  id: "1",
  state: "completed",
  result: null,
  error: null,
  ...over,
});

describe("flow rules", () => {
  it("sizes a tree: tasks and levels", () => {
    expect(treeSize({})).toEqual({ nodes: 1, depth: 1 });
    expect(treeSize({ children: [{}, { children: [{}, {}] }] })).toEqual({ nodes: 5, depth: 3 });
  });

  it("releases the parent on the last child, fails it on a dead child under fail only", () => {
    expect(afterChild(3, "fail", "completed")).toBe("wait");
    expect(afterChild(1, "fail", "completed")).toBe("release");
    expect(afterChild(3, "fail", "dead")).toBe("fail");
    expect(afterChild(3, "ignore", "dead")).toBe("wait");
    expect(afterChild(1, "ignore", "dead")).toBe("release");
  });

  it("builds childResults as valid JSON in order, omitting results past the budget", () => {
    const text = childResultsText(
      [
        child({ id: "1", result: '{"a":1}' }),
        child({ id: "2", state: "dead", error: "boom" }),
        child({ id: "3", result: '"xxxxxxxxxx"' }),
        child({ id: "4", result: "7" }),
      ],
      9,
    );
    expect(JSON.parse(text)).toEqual([
      { queue: "q", id: "1", state: "completed", result: { a: 1 } },
      { queue: "q", id: "2", state: "dead", error: "boom" },
      { queue: "q", id: "3", state: "completed", resultOmitted: true },
      { queue: "q", id: "4", state: "completed", result: 7 },
    ]);
  });

  it("never carries more result bytes than the budget (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.jsonValue())), fc.nat(200), (results, budget) => {
        const ended = results.map((r, i) =>
          child({ id: String(i), result: r === null ? null : JSON.stringify(r) }),
        );
        const parsed = JSON.parse(childResultsText(ended, budget)) as Array<{ result?: unknown }>;
        const carried = parsed.reduce(
          (sum, e, i) => sum + ("result" in e ? new TextEncoder().encode(ended[i]?.result ?? "").length : 0),
          0,
        );
        expect(carried).toBeLessThanOrEqual(budget);
        expect(parsed).toHaveLength(results.length);
      }),
    );
  });

  it("names the failed child, and backs redeliveries off from 1 s to 1 min", () => {
    expect(childFailure({ queue: "q", id: "9", error: null })).toBe("child q/9 is dead");
    expect([1, 2, 3, 7, 30].map(redeliveryDelay)).toEqual([1_000, 2_000, 4_000, 60_000, 60_000]);
  });
});
