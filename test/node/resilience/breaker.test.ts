import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Breaker,
  type BreakerConfig,
  type BreakerSnapshot,
  type StateChange,
} from "../../../shared/resilience/breaker.ts";

const base: BreakerConfig = {
  consecutiveFailures: 3,
  minimumCalls: 4,
  window: { kind: "count", size: 4 },
  openMs: 1_000,
  halfOpenProbes: 2,
};

function breaker(config: Partial<BreakerConfig> = {}, snapshot?: BreakerSnapshot) {
  const changes: StateChange[] = [];
  const b = new Breaker({ ...base, ...config }, snapshot, (c) => changes.push(c));
  return { b, changes };
}

/** A breaker that opens on its rates alone: no test here fails 1 000 calls in a row. */
const rateBased = (config: Partial<BreakerConfig>, snapshot?: BreakerSnapshot) =>
  breaker({ consecutiveFailures: 1_000, ...config }, snapshot);

/** Records outcomes at `now`: true = success, false = failure. */
const feed = (b: Breaker, outcomes: boolean[], now = 0) => {
  for (const ok of outcomes) b.record(ok, undefined, now);
};

describe("circuit breaker rules", () => {
  it("opens after consecutiveFailures failures in a row; a success resets the run", () => {
    const { b, changes } = breaker();
    feed(b, [false, false, true, false, false]);
    expect(b.state(0).state).toBe("closed");
    feed(b, [false], 10);
    expect(b.state(10)).toEqual({ state: "open", openedAt: 10, halfOpenAt: 1_010 });
    expect(changes).toEqual([{ from: "closed", to: "open", reason: "consecutive_failures", at: 10 }]);
  });

  it("refuses calls while open, saying when to come back, and counts the refusals", () => {
    const { b } = breaker();
    feed(b, [false, false, false], 0);
    expect(b.acquire(400)).toEqual({ allowed: false, state: "open", retryAfterMs: 600 });
    expect(b.acquire(999)).toEqual({ allowed: false, state: "open", retryAfterMs: 1 });
    expect(b.counters).toEqual({ calls: 3, failures: 3, rejected: 2, opened: 1 });
  });

  it("turns half-open after openMs and lets at most halfOpenProbes probes out at once", () => {
    const { b, changes } = breaker();
    feed(b, [false, false, false], 0);
    expect(b.acquire(1_000)).toEqual({ allowed: true, probe: true });
    expect(b.acquire(1_001)).toEqual({ allowed: true, probe: true });
    expect(b.acquire(1_002)).toEqual({ allowed: false, state: "half_open", retryAfterMs: 998 });
    expect(changes.at(-1)).toEqual({ from: "open", to: "half_open", reason: "cool_down", at: 1_000 });
    b.record(true, undefined, 1_010);
    // One slot is free again: a third probe may go.
    expect(b.acquire(1_011)).toEqual({ allowed: true, probe: true });
  });

  it("closes after halfOpenProbes successes, with a fresh count", () => {
    const { b, changes } = breaker();
    feed(b, [false, false, false], 0);
    b.acquire(1_000);
    b.acquire(1_000);
    feed(b, [true, true], 1_005);
    expect(b.state(1_005)).toEqual({ state: "closed", consecutiveFailures: 0 });
    expect(changes.map((c) => c.reason)).toEqual(["consecutive_failures", "cool_down", "probes_succeeded"]);
    feed(b, [false, false], 1_006);
    expect(b.state(1_006).state).toBe("closed");
  });

  it("opens again on a failed probe, for another openMs", () => {
    const { b, changes } = breaker();
    feed(b, [false, false, false], 0);
    b.acquire(1_000);
    b.record(false, undefined, 1_200);
    expect(b.state(1_200)).toEqual({ state: "open", openedAt: 1_200, halfOpenAt: 2_200 });
    expect(changes.at(-1)?.reason).toBe("probe_failed");
    expect(b.counters.opened).toBe(2);
  });

  it("frees the slot of a probe that never reports after openMs, or at once when abandoned", () => {
    const { b } = breaker({ halfOpenProbes: 1 });
    feed(b, [false, false, false], 0);
    expect(b.acquire(1_000).allowed).toBe(true);
    expect(b.nextDeadline()).toBe(2_000);
    expect(b.acquire(1_999).allowed).toBe(false);
    expect(b.acquire(2_000)).toEqual({ allowed: true, probe: true });
    b.abandon(2_001);
    expect(b.acquire(2_002)).toEqual({ allowed: true, probe: true });
  });

  it("opens on a failure rate only once minimumCalls calls are in the window", () => {
    const { b, changes } = breaker({ consecutiveFailures: Number.POSITIVE_INFINITY, failureRate: 0.5 });
    feed(b, [false, false, false]);
    expect(b.state(0).state).toBe("closed");
    feed(b, [false]);
    expect(b.state(0).state).toBe("open");
    expect(changes[0]?.reason).toBe("failure_rate");
  });

  it("opens on the good call that brings the window up to minimumCalls", () => {
    const { b } = rateBased({ failureRate: 0.5, minimumCalls: 2 });
    b.record(false, undefined, 0);
    expect(b.state(0).state).toBe("closed");
    b.record(true, undefined, 0);
    expect(b.state(0).state).toBe("open");
    const slow = rateBased({ slowCallMs: 100, slowCallRate: 0.5, minimumCalls: 2 }).b;
    slow.record(true, 150, 0);
    slow.record(true, 10, 0);
    expect(slow.state(0).state).toBe("open");
  });

  it("measures the rate over the last windowSize calls only", () => {
    const { b } = rateBased({ failureRate: 0.75, window: { kind: "count", size: 4 } });
    // F F T T T T: the two failures slide out; then F F F over T T... reaches 3/4.
    feed(b, [false, false, true, true, true, true, false, false]);
    expect(b.state(0).state).toBe("closed");
    feed(b, [false]);
    expect(b.state(0).state).toBe("open");
  });

  it("measures the rate over the last windowMs, in steps of a tenth", () => {
    const { b } = rateBased({ failureRate: 0.5, minimumCalls: 2, window: { kind: "time", ms: 1_000 } });
    b.record(false, undefined, 0);
    // The failure at t=0 has left the window (bucket 0 is older than 1 000 ms at t=1 050).
    b.record(true, undefined, 1_050);
    b.record(true, undefined, 1_050);
    b.record(false, undefined, 1_060);
    expect(b.state(1_060).state).toBe("closed");
    b.record(false, undefined, 1_070);
    expect(b.state(1_070).state).toBe("open");
  });

  it("counts slow calls as bad for failureRate, and on their own for slowCallRate", () => {
    const rate = rateBased({ failureRate: 0.5, slowCallMs: 100 });
    for (const ms of [10, 150, 20, 100]) rate.b.record(true, ms, 0);
    expect(rate.b.state(0).state).toBe("open");
    expect(rate.changes[0]?.reason).toBe("failure_rate");

    const slow = rateBased({ slowCallRate: 0.75, slowCallMs: 100 });
    for (const ms of [500, 10, 500]) slow.b.record(true, ms, 0);
    slow.b.record(false, 500, 0);
    expect(slow.changes[0]?.reason).toBe("slow_call_rate");
  });

  it("ignores latency when no slowCallMs is set", () => {
    const { b } = rateBased({ failureRate: 0.5 });
    for (let i = 0; i < 10; i++) b.record(true, 1e9, 0);
    expect(b.state(0).state).toBe("closed");
  });

  it("round-trips through toJSON", () => {
    const config: Partial<BreakerConfig> = { failureRate: 0.5, window: { kind: "time", ms: 10_000 } };
    const { b } = rateBased(config);
    feed(b, [true, false, true], 5_000);
    const copy = rateBased(config, JSON.parse(JSON.stringify(b))).b;
    expect(copy.toJSON()).toEqual(b.toJSON());
    copy.record(false, undefined, 5_001);
    expect(copy.state(5_001).state).toBe("open");
  });
});

type Op = { kind: "acquire" | "success" | "failure" | "abandon"; dt: number; latency: number };
const arbOps = fc.array(
  fc.record({
    kind: fc.constantFrom<Op["kind"]>("acquire", "success", "failure", "abandon"),
    dt: fc.nat(400),
    latency: fc.nat(300),
  }),
  { maxLength: 200 },
);
const arbConfig = fc.record({
  consecutiveFailures: fc.integer({ min: 1, max: 6 }),
  failureRate: fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
  slowCallMs: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  minimumCalls: fc.integer({ min: 1, max: 10 }),
  window: fc.oneof(
    fc.record({ kind: fc.constant("count" as const), size: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant("time" as const), ms: fc.integer({ min: 1, max: 5_000 }) }),
  ),
  openMs: fc.integer({ min: 1, max: 2_000 }),
  halfOpenProbes: fc.integer({ min: 1, max: 4 }),
});

function apply(b: Breaker, op: Op, now: number): unknown {
  switch (op.kind) {
    case "acquire":
      return b.acquire(now);
    case "abandon":
      return b.abandon(now);
    default:
      return b.record(op.kind === "success", op.latency, now);
  }
}

describe("circuit breaker properties", () => {
  it("never has more than halfOpenProbes probes out, and is only ever open after opening", () => {
    fc.assert(
      fc.property(arbConfig, arbOps, (config, ops) => {
        const b = new Breaker(config);
        let now = 0;
        for (const op of ops) {
          now += op.dt;
          apply(b, op, now);
          const c = b.state(now);
          if (c.state === "half_open") expect(c.probes.length).toBeLessThanOrEqual(config.halfOpenProbes);
          if (c.state !== "closed") expect(b.counters.opened).toBeGreaterThan(0);
        }
      }),
    );
  });

  it("behaves exactly the same after a save and restore at any point", () => {
    fc.assert(
      fc.property(arbConfig, arbOps, fc.nat(200), (config, ops, cut) => {
        const original = new Breaker(config);
        let restored: Breaker | undefined;
        let now = 0;
        ops.forEach((op, i) => {
          if (i === cut) restored = new Breaker(config, JSON.parse(JSON.stringify(original.toJSON())));
          now += op.dt;
          const expected = apply(original, op, now);
          if (restored) expect(apply(restored, op, now)).toEqual(expected);
        });
        if (restored) expect(restored.toJSON()).toEqual(original.toJSON());
      }),
    );
  });
});
