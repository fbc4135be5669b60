import { describe, expect, it } from "vitest";
import {
  ManualClock,
  type RetryEvent,
  type RetryOptions,
  retry,
  sequence,
} from "../../../shared/resilience/index.ts";

class Flaky extends Error {}

/** A task that fails `failures` times, then returns `value`. */
function failing(failures: number, error: () => unknown = () => new Flaky("down"), value = "ok") {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (calls <= failures) throw error();
    return value;
  };
  return { fn, calls: () => calls };
}

/** Exponential from 100 ms with no jitter: the delays go 100, 200, 400, 800… */
const DOUBLING = { jitter: "none", initialDelayMs: 100 } as const;

/** Runs `retry` on a manual clock; returns the outcome, the delays waited and the time taken. */
async function run<F = never>(
  fn: () => Promise<string>,
  options: RetryOptions<string, F>,
  signal?: AbortSignal,
) {
  const clock = new ManualClock(1_000);
  const events: RetryEvent[] = [];
  const promise = retry(fn, { random: () => 0.5, ...options, clock, onRetry: (e) => events.push(e) }, signal);
  const outcome = await clock.runUntilSettled(promise).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { outcome, delays: events.map((e) => e.delayMs), events, elapsed: clock.now() - 1_000, clock };
}

describe("retry", () => {
  it("returns the first success without waiting", async () => {
    const task = failing(0);
    const r = await run(task.fn, {});
    expect(r.outcome).toEqual({ value: "ok" });
    expect(task.calls()).toBe(1);
    expect(r.elapsed).toBe(0);
  });

  it.each([
    ["constant", "none", [100, 100, 100, 100]],
    ["linear", "none", [100, 200, 300, 400]],
    ["exponential", "none", [100, 200, 400, 800]],
    ["fibonacci", "none", [100, 100, 200, 300]],
    ["exponential", "full", [50, 100, 200, 400]],
    ["exponential", "equal", [75, 150, 300, 600]],
    ["exponential", "decorrelated", [200, 350, 575, 912]],
  ] as const)(
    "waits the exact %s/%s schedule and gives up after maxAttempts",
    async (backoff, jitter, expected) => {
      const task = failing(99);
      const r = await run(task.fn, {
        backoff,
        jitter,
        maxAttempts: 5,
        initialDelayMs: 100,
        maxDelayMs: 10_000,
      });
      expect(r.delays).toEqual(expected);
      expect(r.elapsed).toBe(expected.reduce((a, b) => a + b, 0));
      expect(task.calls()).toBe(5);
      expect(r.outcome).toEqual({ error: expect.any(Flaky) });
    },
  );

  it("draws jitter from the injected random source", async () => {
    const task = failing(3);
    const r = await run(task.fn, {
      jitter: "full",
      initialDelayMs: 1000,
      maxAttempts: 4,
      random: sequence([0.1, 0.9, 0]),
    });
    expect(r.delays).toEqual([100, 1800, 0]);
    expect(r.outcome).toEqual({ value: "ok" });
  });

  it("reports the attempt, delay, error and elapsed time before each wait", async () => {
    const task = failing(2);
    const r = await run(task.fn, { backoff: "constant", jitter: "none", initialDelayMs: 40 });
    expect(r.events).toEqual([
      { attempt: 1, delayMs: 40, elapsedMs: 0, error: expect.any(Flaky) },
      { attempt: 2, delayMs: 40, elapsedMs: 40, error: expect.any(Flaky) },
    ]);
  });

  it("never waits longer than maxDelayMs", async () => {
    const r = await run(failing(99).fn, { ...DOUBLING, maxDelayMs: 250, maxAttempts: 6 });
    expect(r.delays).toEqual([100, 200, 250, 250, 250]);
  });

  it("stops when the next attempt would start after maxElapsedMs", async () => {
    const task = failing(99);
    const r = await run(task.fn, { ...DOUBLING, maxAttempts: 100, maxElapsedMs: 1000 });
    // 100 + 200 + 400 = 700 elapsed; waiting 800 more would pass 1000.
    expect(r.delays).toEqual([100, 200, 400]);
    expect(task.calls()).toBe(4);
    expect(r.elapsed).toBe(700);
  });

  it("retries only the error classes given, and throws others at once", async () => {
    const other = failing(1, () => new RangeError("bad input"));
    const r = await run(other.fn, { retryOn: Flaky });
    expect(r.outcome).toEqual({ error: expect.any(RangeError) });
    expect(other.calls()).toBe(1);
    const listed = failing(2, () => new TypeError("network"));
    expect((await run(listed.fn, { retryOn: [Flaky, TypeError] })).outcome).toEqual({ value: "ok" });
  });

  it("retries the errors a predicate function accepts", async () => {
    const task = failing(2, () => ({ status: 503 }));
    const retryOn = (e: unknown) => (e as { status?: number }).status === 503;
    expect((await run(task.fn, { retryOn })).outcome).toEqual({ value: "ok" });
    const fatal = failing(2, () => ({ status: 400 }));
    expect((await run(fatal.fn, { retryOn })).outcome).toEqual({ error: { status: 400 } });
    expect(fatal.calls()).toBe(1);
  });

  it("retries results the result predicate rejects, and returns the last one when out of attempts", async () => {
    let n = 0;
    const fn = async () => `status-${++n === 3 ? 200 : 503}`;
    const r = await run(fn, { retryOnResult: (s) => s.endsWith("503"), initialDelayMs: 10 });
    expect(r.outcome).toEqual({ value: "status-200" });
    const always = await run(async () => "status-503", { retryOnResult: () => true, maxAttempts: 2 });
    expect(always.outcome).toEqual({ value: "status-503" });
    expect(always.events[0]).toMatchObject({ attempt: 1, result: "status-503" });
  });

  it("answers the fallback value after exhaustion", async () => {
    const r = await run(failing(99).fn, { maxAttempts: 2, fallback: "cached" });
    expect(r.outcome).toEqual({ value: "cached" });
  });

  it("calls a fallback function with the last failure", async () => {
    const r = await run(failing(99).fn, {
      ...DOUBLING,
      maxAttempts: 3,
      fallback: async (x) =>
        `fallback after ${x.attempts} attempts, ${x.elapsedMs} ms: ${"error" in x && String(x.error)}`,
    });
    expect(r.outcome).toEqual({ value: "fallback after 3 attempts, 300 ms: Error: down" });
  });

  it("does not use the fallback for errors it does not retry", async () => {
    const r = await run(failing(1, () => new RangeError("x")).fn, { retryOn: Flaky, fallback: "cached" });
    expect(r.outcome).toEqual({ error: expect.any(RangeError) });
  });

  it("stops waiting the moment the signal aborts, without another attempt", async () => {
    const controller = new AbortController();
    const clock = new ManualClock();
    const task = failing(99);
    const promise = retry(task.fn, { clock, initialDelayMs: 10_000, jitter: "none" }, controller.signal);
    await expect.poll(() => clock.pending).toBe(1);
    controller.abort(new Error("caller gave up"));
    await expect(promise).rejects.toThrow("caller gave up");
    expect(task.calls()).toBe(1);
    expect(clock.now()).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("does not start when the signal is already aborted, and hands the signal to the task", async () => {
    const controller = new AbortController();
    controller.abort();
    let called = false;
    await expect(retry(() => (called = true), {}, controller.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(called).toBe(false);
    const live = new AbortController();
    await retry(({ signal }) => expect(signal).toBe(live.signal), {}, live.signal);
  });

  it("is a reusable policy when given options only", async () => {
    const policy = retry({ maxAttempts: 4, jitter: "none", initialDelayMs: 1, clock: new ManualClock() });
    expect(policy.backoff).toEqual({
      kind: "exponential",
      initialDelayMs: 1,
      maxDelayMs: 30_000,
      jitter: "none",
    });
    const clock = new ManualClock();
    const p = retry({ maxAttempts: 4, initialDelayMs: 1, clock });
    expect(await clock.runUntilSettled(p.execute(failing(3).fn))).toBe("ok");
    expect(() => retry({ maxAttempts: 0 })).toThrow(RangeError);
  });
});
