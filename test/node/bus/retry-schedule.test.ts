import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterFailure,
  DEFAULT_WEBHOOK_BACKOFF,
  PAUSE_AFTER_DEAD_LETTERS,
  shouldPause,
} from "../../../durable-objects/logic/retry-schedule.ts";

const base = {
  maxAttempts: 3,
  critical: false,
  paused: false,
  policy: DEFAULT_WEBHOOK_BACKOFF,
  now: 1_000_000,
  random: () => 0.5,
};

describe("webhook retry schedule", () => {
  it("retries until maxAttempts, then dead-letters a normal event", () => {
    expect(afterFailure({ ...base, attempts: 1 }).kind).toBe("retry");
    expect(afterFailure({ ...base, attempts: 2 }).kind).toBe("retry");
    expect(afterFailure({ ...base, attempts: 3 })).toEqual({ kind: "dead" });
  });

  it("never dead-letters a failure that says the receiver is down, whatever the count", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 50 }),
        (attempts, maxAttempts) => {
          const d = afterFailure({ ...base, attempts, maxAttempts, receiverDown: true });
          expect(d.kind).toBe("retry");
          if (d.kind === "retry") expect(d.delayMs).toBeLessThanOrEqual(DEFAULT_WEBHOOK_BACKOFF.maxDelayMs);
        },
      ),
    );
    // Before any attempt counted, the delay is the first one.
    const first = afterFailure({ ...base, attempts: 0, receiverDown: true });
    expect(first).toEqual(afterFailure({ ...base, attempts: 1, critical: true }));
    // A paused subscription still keeps only critical events.
    expect(afterFailure({ ...base, attempts: 0, receiverDown: true, paused: true })).toEqual({
      kind: "dead",
    });
  });

  it("keeps retrying a critical event past maxAttempts, at most maxDelayMs apart", () => {
    const d = afterFailure({ ...base, attempts: 40, critical: true });
    expect(d).toMatchObject({ kind: "retry" });
    if (d.kind === "retry") expect(d.delayMs).toBeLessThanOrEqual(DEFAULT_WEBHOOK_BACKOFF.maxDelayMs);
  });

  it("dead-letters normal events of a paused subscription at once, keeps critical ones", () => {
    expect(afterFailure({ ...base, attempts: 1, paused: true })).toEqual({ kind: "dead" });
    expect(afterFailure({ ...base, attempts: 1, paused: true, critical: true }).kind).toBe("retry");
  });

  it("grows the delay from one attempt to the next below the cap, whatever the jitter draws", () => {
    // 5 s doubling reaches the 1 h cap at attempt 11; from there delays stay in [cap/2, cap].
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r1, r2) => {
          const first = afterFailure({ ...base, critical: true, attempts: attempt, random: () => r1 });
          const next = afterFailure({ ...base, critical: true, attempts: attempt + 1, random: () => r2 });
          if (first.kind !== "retry" || next.kind !== "retry") throw new Error("expected retries");
          expect(first.dueAt).toBe(base.now + first.delayMs);
          expect(next.delayMs).toBeGreaterThan(first.delayMs);
        },
      ),
    );
  });

  it("pauses after consecutive dead letters", () => {
    expect(shouldPause(PAUSE_AFTER_DEAD_LETTERS - 1)).toBe(false);
    expect(shouldPause(PAUSE_AFTER_DEAD_LETTERS)).toBe(true);
  });
});
