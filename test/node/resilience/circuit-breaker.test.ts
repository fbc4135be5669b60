import { describe, expect, it } from "vitest";
import {
  BrokenCircuitError,
  circuitBreaker,
  ManualClock,
  type StateChange,
  sleep,
} from "../../../shared/resilience/index.ts";

const fail = () => Promise.reject(new Error("down"));
const succeed = () => Promise.resolve("up");
const settle = (p: Promise<unknown>) => p.catch(() => undefined);

describe("circuitBreaker policy", () => {
  it("goes closed → open → half-open → closed, and throws BrokenCircuitError with when to retry", async () => {
    const clock = new ManualClock(10_000);
    const changes: StateChange[] = [];
    const breaker = circuitBreaker({
      consecutiveFailures: 2,
      openMs: 500,
      clock,
      onStateChange: (c) => changes.push(c),
    });
    await settle(breaker.execute(fail));
    await settle(breaker.execute(fail));
    expect(breaker.state).toBe("open");
    clock.advance(200);
    const err = await breaker.execute(succeed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokenCircuitError);
    expect(err).toMatchObject({ state: "open", retryAfterMs: 300, retryAt: 10_500 });
    clock.advance(300);
    expect(breaker.state).toBe("half_open");
    expect(await breaker.execute(succeed)).toBe("up");
    expect(breaker.state).toBe("closed");
    expect(changes.map((c) => `${c.from}→${c.to}`)).toEqual([
      "closed→open",
      "open→half_open",
      "half_open→closed",
    ]);
    expect(breaker.counters).toEqual({ calls: 3, failures: 2, rejected: 1, opened: 1 });
  });

  it("lets only halfOpenProbes probes run at once", async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, openMs: 100, halfOpenProbes: 2, clock });
    await settle(breaker.execute(fail));
    clock.advance(100);
    const slow = () => sleep(clock, 50).then(() => "probe");
    const probes = [breaker.execute(slow), breaker.execute(slow)];
    await expect(breaker.execute(succeed)).rejects.toMatchObject({ state: "half_open" });
    clock.advance(50);
    expect(await Promise.all(probes)).toEqual(["probe", "probe"]);
    expect(breaker.state).toBe("closed");
  });

  it("counts only the errors failureOn names, and results failureOnResult flags", async () => {
    class Unavailable extends Error {}
    const breaker = circuitBreaker({
      consecutiveFailures: 2,
      failureOn: Unavailable,
      failureOnResult: (r) => r === 503,
    });
    for (let i = 0; i < 5; i++) await settle(breaker.execute(() => Promise.reject(new RangeError("404"))));
    expect(breaker.state).toBe("closed");
    await settle(breaker.execute(() => Promise.reject(new Unavailable())));
    expect(await breaker.execute(() => 503)).toBe(503);
    expect(breaker.state).toBe("open");
  });

  it("opens on slow calls when it times them", async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({
      slowCallMs: 100,
      slowCallRate: 0.5,
      minimumCalls: 2,
      windowSize: 10,
      clock,
    });
    const call = (ms: number) => breaker.execute(() => sleep(clock, ms));
    await clock.runUntilSettled(call(10));
    await clock.runUntilSettled(call(150));
    expect(breaker.state).toBe("open");
  });

  it("frees a probe without an outcome when the caller aborts", async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 1, openMs: 100, clock });
    await settle(breaker.execute(fail));
    clock.advance(100);
    const caller = new AbortController();
    const probe = breaker.execute(({ signal }) => sleep(clock, 1_000, signal), caller.signal);
    caller.abort();
    await settle(probe);
    expect(breaker.state).toBe("half_open");
    expect(await breaker.execute(succeed)).toBe("up");
  });

  it("resumes from a saved state, and stops notifying an unsubscribed listener", async () => {
    const clock = new ManualClock();
    const first = circuitBreaker({ consecutiveFailures: 1, clock });
    await settle(first.execute(fail));
    const second = circuitBreaker({ consecutiveFailures: 1, clock, initialState: first.toJSON() });
    expect(second.state).toBe("open");
    const seen: string[] = [];
    const stop = second.onStateChange((c) => seen.push(c.to));
    clock.advance(30_000);
    expect(second.state).toBe("half_open");
    stop();
    await second.execute(succeed);
    expect(seen).toEqual(["half_open"]);
  });

  it.each([
    [{ failureRate: 0 }],
    [{ failureRate: 1.5 }],
    [{ halfOpenProbes: 0 }],
    [{ consecutiveFailures: 0 }],
    [{ windowMs: 1_000, windowSize: 10 }],
  ])("refuses bad options %j", (options) => {
    expect(() => circuitBreaker(options)).toThrow(RangeError);
  });
});
