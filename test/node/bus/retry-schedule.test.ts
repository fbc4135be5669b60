import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DOWN_AFTER } from "../../../durable-objects/logic/receiver-health.ts";
import {
  afterFailure,
  type CountedTries,
  countFailure,
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
/** `attempts` answered failures and no down signals. */
const answered = (attempts: number): CountedTries => ({ attempts, downTries: 0 });

describe("webhook retry schedule", () => {
  it("retries until maxAttempts, then dead-letters a normal event", () => {
    expect(afterFailure({ ...base, counted: answered(1) }).kind).toBe("retry");
    expect(afterFailure({ ...base, counted: answered(2) }).kind).toBe("retry");
    expect(afterFailure({ ...base, counted: answered(3) })).toEqual({ kind: "dead" });
  });

  it("keeps retrying a critical event past maxAttempts, at most maxDelayMs apart", () => {
    const d = afterFailure({ ...base, counted: answered(40), critical: true });
    expect(d).toMatchObject({ kind: "retry" });
    if (d.kind === "retry") expect(d.delayMs).toBeLessThanOrEqual(DEFAULT_WEBHOOK_BACKOFF.maxDelayMs);
  });

  it("dead-letters normal events of a paused subscription at once, keeps critical ones", () => {
    expect(afterFailure({ ...base, counted: answered(1), paused: true })).toEqual({ kind: "dead" });
    expect(afterFailure({ ...base, counted: answered(1), paused: true, critical: true }).kind).toBe("retry");
  });

  it("grows the delay from one attempt to the next below the cap, whatever the jitter draws", () => {
    // 5 s doubling reaches the 1 h cap at attempt 11; from there delays stay in [cap/2, cap].
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r1, r2) => {
          const first = afterFailure({
            ...base,
            critical: true,
            counted: answered(attempt),
            random: () => r1,
          });
          const next = afterFailure({
            ...base,
            critical: true,
            counted: answered(attempt + 1),
            random: () => r2,
          });
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

describe("down signals and maxAttempts", () => {
  /** Runs a delivery through failures (true: a down signal) until it is dead; how many it took, or null. */
  function failuresToDead(failures: readonly boolean[], maxAttempts: number): number | null {
    let counted: CountedTries = { attempts: 0, downTries: 0 };
    for (const [i, down] of failures.entries()) {
      counted = countFailure(counted, down);
      if (afterFailure({ ...base, maxAttempts, counted }).kind === "dead") return i + 1;
    }
    return null;
  }

  it("spends no attempt on the first DOWN_AFTER down signals: a refused port never dead-letters with maxAttempts 1", () => {
    expect(failuresToDead(Array(DOWN_AFTER).fill(true), 1)).toBeNull();
    expect(countFailure({ attempts: 0, downTries: 0 }, true)).toEqual({ attempts: 0, downTries: 1 });
    // Those are enough to mark a receiver that is down as down; past them they count.
    expect(failuresToDead(Array(DOWN_AFTER + 1).fill(true), 1)).toBe(DOWN_AFTER + 1);
  });

  it("dead-letters any mix of failures after maxAttempts answered ones or DOWN_AFTER more, never sooner", () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 80 }),
        fc.integer({ min: 1, max: 20 }),
        (failures, max) => {
          const tookTo = failuresToDead(failures, max);
          const answeredBy = (n: number) => failures.slice(0, n).filter((down) => !down).length;
          if (tookTo === null) {
            // Alive: fewer than maxAttempts counted, so fewer than maxAttempts + DOWN_AFTER tries.
            expect(failures.length).toBeLessThan(max + DOWN_AFTER);
          } else {
            expect(tookTo).toBeGreaterThanOrEqual(max);
            expect(tookTo).toBeLessThanOrEqual(max + DOWN_AFTER);
            // Every answered failure counted, so at most maxAttempts of them came before the end.
            expect(answeredBy(tookTo)).toBeLessThanOrEqual(max);
          }
        },
      ),
    );
  });

  it("grows the delay with every try, counted or not", () => {
    const delayAfter = (counted: CountedTries) => {
      const d = afterFailure({ ...base, critical: true, counted });
      if (d.kind !== "retry") throw new Error("expected a retry");
      return d.delayMs;
    };
    expect(delayAfter({ attempts: 0, downTries: 1 })).toBe(delayAfter(answered(1)));
    expect(delayAfter({ attempts: 0, downTries: 2 })).toBeGreaterThan(
      delayAfter({ attempts: 0, downTries: 1 }),
    );
    expect(delayAfter({ attempts: 2, downTries: 3 })).toBe(delayAfter(answered(5)));
  });
});
