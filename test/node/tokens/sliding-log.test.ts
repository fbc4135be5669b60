import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SlidingLog } from "../../../durable-objects/logic/sliding-log.ts";

describe("SlidingLog", () => {
  it("never allows more than `requests` calls in any window of `periodMs`, and refuses only when full", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1000, max: 5000 }),
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 60 }),
        (requests, periodMs, gaps) => {
          const log = new SlidingLog(requests, periodMs);
          const allowed: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const inWindow = allowed.filter((t) => t > now - periodMs).length;
            const taken = log.take(now);
            expect(taken.allowed).toBe(inWindow < requests);
            if (taken.allowed) allowed.push(now);
            else {
              // Retrying when told is allowed; a moment earlier is not.
              const oldest = allowed.filter((t) => t > now - periodMs)[0] as number;
              expect(taken.retryAfterMs).toBe(Math.max(1, oldest + periodMs - now));
            }
          }
        },
      ),
    );
  });

  it("starts from stored times, so a restarted object keeps counting", () => {
    const log = new SlidingLog(2, 60_000, [1000, 2000, 500]);
    expect(log.live(3000)).toEqual([1000, 2000]);
    expect(log.take(3000)).toEqual({ allowed: false, retryAfterMs: 58_000 });
    expect(log.take(61_000)).toEqual({ allowed: true });
  });
});
