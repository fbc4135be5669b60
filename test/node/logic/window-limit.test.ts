import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { takeOne, WindowLimit } from "../../../durable-objects/logic/window-limit.ts";

describe("WindowLimit", () => {
  it("over any window of periodMs, never more than `limit` units taken (a restart in between included)", () => {
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
        (limit, periodMs, steps) => {
          let window = new WindowLimit(limit, periodMs);
          let now = 1_000_000;
          const granted: Array<{ at: number; n: number }> = [];
          for (const { dt, asked, restart } of steps) {
            now += dt;
            // A restart rebuilds the window from what a store kept.
            if (restart) window = new WindowLimit(limit, periodMs, window.live(now));
            const n = Math.min(asked, window.available(now));
            window.take(now, n);
            if (n > 0) granted.push({ at: now, n });
          }
          // Every window [t, t + periodMs) that starts at a grant holds the most a window can.
          for (const start of granted) {
            const inWindow = granted
              .filter((g) => g.at >= start.at && g.at < start.at + periodMs)
              .reduce((sum, g) => sum + g.n, 0);
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
        },
      ),
    );
  });

  it("one at a time: refuses only when full, and the retry it names is the first moment allowed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1000, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 60 }),
        (limit, periodMs, gaps) => {
          const window = new WindowLimit(limit, periodMs);
          const allowed: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const inWindow = allowed.filter((t) => t > now - periodMs);
            const taken = takeOne(window, now);
            expect(taken.allowed).toBe(inWindow.length < limit);
            if (taken.allowed) allowed.push(now);
            else {
              const oldest = inWindow[0] as number;
              expect(taken.retryAfterMs).toBe(Math.max(1, oldest + periodMs - now));
            }
          }
        },
      ),
    );
  });

  it("gives units back one period after they were taken, and says when", () => {
    const window = new WindowLimit(10, 1_000);
    window.take(0, 6);
    window.take(500, 4);
    expect(window.available(999)).toBe(0);
    expect(window.nextFreeAt(999)).toBe(1_000);
    expect(window.available(1_000)).toBe(6);
    expect(window.nextFreeAt(1_000)).toBe(1_500);
    expect(window.available(1_500)).toBe(10);
    expect(window.nextFreeAt(1_500)).toBeNull();
  });

  it("a full window's whole limit may go at once, then nothing until the period is over", () => {
    const window = new WindowLimit(100, 60_000);
    expect(window.available(0)).toBe(100);
    window.take(0, 100);
    expect(window.available(59_999)).toBe(0);
    expect(window.available(60_000)).toBe(100);
  });

  it("starts from stored entries in any order, so a restarted object keeps counting", () => {
    const stored = [1000, 2000, 500].map((at) => ({ at, n: 1 }));
    const window = new WindowLimit(2, 60_000, stored);
    expect(window.live(60_600)).toEqual([
      { at: 1000, n: 1 },
      { at: 2000, n: 1 },
    ]);
    expect(takeOne(window, 60_600)).toEqual({ allowed: false, retryAfterMs: 400 });
    expect(takeOne(window, 61_000)).toEqual({ allowed: true });
  });

  it("keeps counting right across its compaction (thousands of entries dropped)", () => {
    const window = new WindowLimit(3, 10);
    for (let now = 0; now < 20_000; now += 5) {
      expect(takeOne(window, now).allowed).toBe(true);
      // This call and the one 5 ms before are in the window.
      expect(window.available(now)).toBe(now === 0 ? 2 : 1);
    }
    expect(window.live(19_995)).toEqual([
      { at: 19_990, n: 1 },
      { at: 19_995, n: 1 },
    ]);
  });
});
