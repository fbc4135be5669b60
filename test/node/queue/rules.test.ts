import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  holdsLease,
  isLegalMove,
  leaseOrder,
  nextWake,
  PRIORITIES,
  placeExpired,
  placeNacked,
  placeNew,
  priorityOf,
  priorityRank,
  type ReadyKey,
} from "../../../durable-objects/logic/queue-rules.ts";
import type { BackoffPolicy } from "../../../shared/resilience/backoff.ts";

const readyKey = fc.record({
  rank: fc.integer({ min: 0, max: 3 }),
  availableAt: fc.integer({ min: 0, max: 1_000 }),
  seq: fc.integer({ min: 1, max: 1_000_000 }),
});
const random = fc.double({ min: 0, max: 0.999_999, noNaN: true });

describe("priorities", () => {
  it("rank low < normal < high < critical and round-trip", () => {
    expect(PRIORITIES.map(priorityRank)).toEqual([0, 1, 2, 3]);
    for (const p of PRIORITIES) expect(priorityOf(priorityRank(p))).toBe(p);
    expect(() => priorityOf(4)).toThrow(RangeError);
  });
});

describe("lease order", () => {
  it("puts a higher priority first, then the task ready longest, then the earlier arrival", () => {
    fc.assert(
      fc.property(fc.uniqueArray(readyKey, { selector: (k) => k.seq, maxLength: 50 }), (keys) => {
        const sorted = [...keys].sort(leaseOrder);
        for (let i = 1; i < sorted.length; i++) {
          const a = sorted[i - 1] as ReadyKey;
          const b = sorted[i] as ReadyKey;
          expect(a.rank).toBeGreaterThanOrEqual(b.rank);
          if (a.rank === b.rank) {
            expect(a.availableAt).toBeLessThanOrEqual(b.availableAt);
            if (a.availableAt === b.availableAt) expect(a.seq).toBeLessThan(b.seq);
          }
        }
      }),
    );
  });

  it("is antisymmetric and total over distinct tasks", () => {
    fc.assert(
      fc.property(readyKey, readyKey, (a, b) => {
        fc.pre(a.seq !== b.seq);
        expect(Math.sign(leaseOrder(a, b))).toBe(-Math.sign(leaseOrder(b, a)));
        expect(leaseOrder(a, b)).not.toBe(0);
      }),
    );
  });
});

describe("transitions", () => {
  it("allows the documented moves only", () => {
    expect(isLegalMove("lease", "ready", "leased")).toBe(true);
    expect(isLegalMove("lease", "delayed", "leased")).toBe(false);
    expect(isLegalMove("ack", "ready", "completed")).toBe(false);
    expect(isLegalMove("expire", "leased", "dead")).toBe(true);
    expect(isLegalMove("purge", "leased", null)).toBe(false);
    expect(isLegalMove("redrive", "dead", "ready")).toBe(true);
  });
});

describe("placement", () => {
  it("places a new task ready now or delayed until its time", () => {
    expect(placeNew(1_000, 0)).toEqual({ state: "ready", availableAt: 1_000 });
    expect(placeNew(1_000, 250)).toEqual({ state: "delayed", availableAt: 1_250 });
  });

  it("buries a nacked task when retry is off or attempts are used up, else backs off", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.boolean(),
        random,
        (attempt, maxAttempts, retry, r) => {
          const out = placeNacked({ attempt, maxAttempts }, { retry }, 10_000, DEFAULT_RETRY_POLICY, () => r);
          if (!retry || attempt >= maxAttempts) {
            expect(out).toEqual({ state: "dead" });
          } else {
            expect(out.state).not.toBe("dead");
            const at = (out as { availableAt: number }).availableAt;
            expect(at - 10_000).toBeGreaterThanOrEqual(0);
            expect(at - 10_000).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
          }
        },
      ),
    );
  });

  it("honours an explicit nack delay, zero meaning ready at once", () => {
    const task = { attempt: 1, maxAttempts: 5 };
    const never = () => {
      throw new Error("backoff must not be consulted");
    };
    expect(placeNacked(task, { retry: true, delayMs: 0 }, 50, DEFAULT_RETRY_POLICY, never)).toEqual({
      state: "ready",
      availableAt: 50,
    });
    expect(placeNacked(task, { retry: true, delayMs: 70 }, 50, DEFAULT_RETRY_POLICY, never)).toEqual({
      state: "delayed",
      availableAt: 120,
    });
  });

  it("grows the default backoff with every attempt until the cap (equal jitter never shrinks it)", () => {
    fc.assert(
      fc.property(fc.array(random, { minLength: 20, maxLength: 20 }), (draws) => {
        const delays = draws.map((r, i) => {
          const out = placeNacked(
            { attempt: i + 1, maxAttempts: 100 },
            { retry: true },
            0,
            DEFAULT_RETRY_POLICY,
            () => r,
          );
          return (out as { availableAt: number }).availableAt;
        });
        // 1 s × 2^(n-1) stays under the 10 min cap for n ≤ 10: each range starts where the last ended.
        for (let i = 1; i < 10; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
        for (const d of delays.slice(10))
          expect(d).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs / 2);
        expect(delays[0]).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.initialDelayMs / 2);
        expect(Math.max(...delays)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.maxDelayMs);
      }),
    );
  });

  it("follows a configured policy exactly without jitter", () => {
    const policy: BackoffPolicy = {
      kind: "exponential",
      initialDelayMs: 100,
      maxDelayMs: 1_000,
      jitter: "none",
    };
    const at = [1, 2, 3, 4, 5].map(
      (attempt) =>
        (
          placeNacked({ attempt, maxAttempts: 10 }, { retry: true }, 0, policy, Math.random) as {
            availableAt: number;
          }
        ).availableAt,
    );
    expect(at).toEqual([100, 200, 400, 800, 1_000]);
  });

  it("returns an expired lease's task ready from the expiry, or dead when out of attempts", () => {
    expect(placeExpired({ attempt: 1, maxAttempts: 2 }, 900)).toEqual({ state: "ready", availableAt: 900 });
    expect(placeExpired({ attempt: 2, maxAttempts: 2 }, 900)).toEqual({ state: "dead" });
  });
});

describe("lease ownership", () => {
  const leased = { state: "leased" as const, leaseId: "L1", leaseExpiresAt: 1_000 };
  it("holds only with the same lease id before expiry", () => {
    expect(holdsLease(leased, "L1", 999)).toBe(true);
    expect(holdsLease(leased, "L1", 1_000)).toBe(false);
    expect(holdsLease(leased, "L2", 0)).toBe(false);
    expect(holdsLease({ ...leased, state: "ready" }, "L1", 0)).toBe(false);
  });
});

describe("next wake", () => {
  it("is the earliest pending instant, counting retention from the oldest completion", () => {
    expect(nextWake({}, 3_600_000)).toBeNull();
    expect(nextWake({ leaseExpiry: 500, delayedDue: 300 }, 1_000)).toBe(300);
    expect(nextWake({ leaseExpiry: 5_000, oldestCompletedAt: 100 }, 1_000)).toBe(1_100);
    fc.assert(
      fc.property(
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.nat(),
        (leaseExpiry, delayedDue, oldestCompletedAt, retention) => {
          const wake = nextWake({ leaseExpiry, delayedDue, oldestCompletedAt }, retention);
          const all = [
            leaseExpiry,
            delayedDue,
            oldestCompletedAt === undefined ? undefined : oldestCompletedAt + retention,
          ];
          const present = all.filter((t) => t !== undefined) as number[];
          expect(wake).toBe(present.length ? Math.min(...present) : null);
        },
      ),
    );
  });
});
