import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BackoffKind,
  type BackoffPolicy,
  backoffDelay,
  baseDelay,
  type Jitter,
} from "../../../shared/resilience/backoff.ts";

const half = () => 0.5;
const policy = (kind: BackoffKind, jitter: Jitter): BackoffPolicy => ({
  kind,
  jitter,
  initialDelayMs: 100,
  maxDelayMs: 1000,
});
const delays = (p: BackoffPolicy, attempts: number, random = half) => {
  const out: number[] = [];
  let previous: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    previous = backoffDelay(p, attempt, random, previous);
    out.push(previous);
  }
  return out;
};

describe("backoff schedules", () => {
  it.each([
    ["constant", "none", [100, 100, 100, 100, 100, 100, 100]],
    ["linear", "none", [100, 200, 300, 400, 500, 600, 700]],
    ["exponential", "none", [100, 200, 400, 800, 1000, 1000, 1000]],
    ["fibonacci", "none", [100, 100, 200, 300, 500, 800, 1000]],
    ["constant", "full", [50, 50, 50, 50, 50, 50, 50]],
    ["linear", "full", [50, 100, 150, 200, 250, 300, 350]],
    ["exponential", "full", [50, 100, 200, 400, 500, 500, 500]],
    ["fibonacci", "full", [50, 50, 100, 150, 250, 400, 500]],
    ["constant", "equal", [75, 75, 75, 75, 75, 75, 75]],
    ["linear", "equal", [75, 150, 225, 300, 375, 450, 525]],
    ["exponential", "equal", [75, 150, 300, 600, 750, 750, 750]],
    ["fibonacci", "equal", [75, 75, 150, 225, 375, 600, 750]],
    // Decorrelated: initial + r × (3 × previous − initial), capped; the kind does not matter.
    ["exponential", "decorrelated", [200, 350, 575, 912, 1000, 1000, 1000]],
    ["constant", "decorrelated", [200, 350, 575, 912, 1000, 1000, 1000]],
  ] as const)("%s with %s jitter gives the exact sequence for r = 0.5", (kind, jitter, expected) => {
    expect(delays(policy(kind, jitter), 7)).toEqual(expected);
  });

  it("follows the random source: full jitter spans [0, d), equal jitter [d/2, d)", () => {
    const p = policy("exponential", "full");
    expect([0, 0.25, 0.999].map((r) => backoffDelay(p, 3, () => r))).toEqual([0, 100, 399]);
    const e = policy("exponential", "equal");
    expect([0, 0.25, 0.999].map((r) => backoffDelay(e, 3, () => r))).toEqual([200, 250, 399]);
  });

  it("uses the exponential factor", () => {
    const p: BackoffPolicy = { ...policy("exponential", "none"), factor: 3, maxDelayMs: 100_000 };
    expect(delays(p, 5)).toEqual([100, 300, 900, 2700, 8100]);
  });

  it("computes huge attempt numbers at once and without NaN", () => {
    for (const kind of ["constant", "linear", "exponential", "fibonacci"] as const) {
      expect(baseDelay(policy(kind, "none"), 1e12)).toBe(kind === "constant" ? 100 : 1000);
      expect(baseDelay({ ...policy(kind, "none"), initialDelayMs: 0 }, 1e12)).toBe(0);
    }
  });
});

const arbPolicy = fc.record({
  kind: fc.constantFrom<BackoffKind>("constant", "linear", "exponential", "fibonacci"),
  jitter: fc.constantFrom<Jitter>("none", "full", "equal", "decorrelated"),
  initialDelayMs: fc.integer({ min: 0, max: 60_000 }),
  maxDelayMs: fc.integer({ min: 0, max: 3_600_000 }),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
});
const arbAttempt = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 2 ** 40 }));
const arbRandom = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("backoff properties", () => {
  it("never gives a delay outside [0, maxDelayMs], for any attempt, jitter and random value", () => {
    fc.assert(
      fc.property(arbPolicy, arbAttempt, arbRandom, fc.option(fc.nat(1e9)), (p, attempt, r, previous) => {
        const d = backoffDelay(p, attempt, () => r, previous ?? undefined);
        expect(Number.isFinite(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(p.maxDelayMs);
      }),
    );
  });

  it("keeps each jitter mode within its own band around the base delay", () => {
    fc.assert(
      fc.property(arbPolicy, arbAttempt, arbRandom, fc.option(fc.nat(1e9)), (p, attempt, r, previous) => {
        const base = baseDelay(p, attempt);
        const d = backoffDelay(p, attempt, () => r, previous ?? undefined);
        switch (p.jitter) {
          case "none":
            expect(d).toBe(base);
            break;
          case "full":
            expect(d).toBeLessThanOrEqual(base);
            break;
          case "equal":
            expect(d).toBeGreaterThanOrEqual(Math.floor(base / 2));
            expect(d).toBeLessThanOrEqual(base);
            break;
          case "decorrelated": {
            const low = Math.min(p.initialDelayMs, p.maxDelayMs);
            const high = Math.max(p.initialDelayMs, (previous ?? p.initialDelayMs) * 3);
            expect(d).toBeGreaterThanOrEqual(low);
            expect(d).toBeLessThanOrEqual(Math.min(high, p.maxDelayMs));
            break;
          }
        }
      }),
    );
  });

  it("never shrinks the base delay as attempts grow", () => {
    fc.assert(
      fc.property(arbPolicy, arbAttempt, fc.integer({ min: 1, max: 1000 }), (p, attempt, step) => {
        expect(baseDelay(p, attempt + step)).toBeGreaterThanOrEqual(baseDelay(p, attempt));
      }),
    );
  });
});
