import { describe, expect, it } from "vitest";
import {
  BrokenCircuitError,
  bulkhead,
  circuitBreaker,
  ManualClock,
  type Policy,
  retry,
  sleep,
  type Task,
  TimeoutError,
  timeout,
  wrap,
} from "../../../shared/resilience/index.ts";

/** A policy that notes when calls enter and leave it. */
function tracer(name: string, log: string[]): Policy {
  return {
    async execute<T>(fn: Task<T>, signal?: AbortSignal) {
      log.push(`${name}>`);
      try {
        return await fn({ signal: signal ?? new AbortController().signal });
      } finally {
        log.push(`<${name}`);
      }
    },
  };
}

describe("wrap", () => {
  it("runs the first policy outermost", async () => {
    const log: string[] = [];
    const policy = wrap(tracer("a", log), tracer("b", log), tracer("c", log));
    const result = await policy.execute(() => {
      log.push("fn");
      return 1;
    });
    expect(result).toBe(1);
    expect(log).toEqual(["a>", "b>", "c>", "fn", "<c", "<b", "<a"]);
  });

  it("gives each attempt its own deadline, retries timeouts, and the breaker sees each attempt", async () => {
    const clock = new ManualClock();
    const breaker = circuitBreaker({ consecutiveFailures: 10, clock });
    const policy = wrap(
      retry({ maxAttempts: 3, jitter: "none", initialDelayMs: 10, clock }),
      breaker,
      timeout({ ms: 100, clock }),
    );
    let attempts = 0;
    const result = policy.execute(async ({ signal }) => {
      attempts++;
      await sleep(clock, attempts < 3 ? 1_000 : 50, signal);
      return "third time";
    });
    expect(await clock.runUntilSettled(result)).toBe("third time");
    // Two attempts cut at 100 ms, waits of 10 and 20 ms, then 50 ms.
    expect(clock.now()).toBe(100 + 10 + 100 + 20 + 50);
    expect(breaker.counters).toMatchObject({ calls: 3, failures: 2 });
  });

  it("stops retrying once the breaker opens, and falls back after exhaustion", async () => {
    const clock = new ManualClock();
    const policy = wrap(
      retry({
        maxAttempts: 10,
        jitter: "none",
        initialDelayMs: 1,
        clock,
        retryOn: (e) => !(e instanceof BrokenCircuitError),
        fallback: "never used: BrokenCircuitError is not retried",
      }),
      circuitBreaker({ consecutiveFailures: 3, clock }),
    );
    let calls = 0;
    const run = policy.execute(() => {
      calls++;
      throw new Error("down");
    });
    await expect(clock.runUntilSettled(run)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(3);
    const exhausted = wrap(
      retry({ maxAttempts: 2, initialDelayMs: 1, clock, fallback: "stale" }),
      timeout({ ms: 5, clock }),
    );
    expect(await clock.runUntilSettled(exhausted.execute(() => new Promise(() => {})))).toBe("stale");
  });

  it("bounds all attempts together when the timeout is outermost, aborting the running attempt", async () => {
    const clock = new ManualClock();
    const policy = wrap(
      timeout({ ms: 250, clock }),
      retry({ maxAttempts: 100, jitter: "none", initialDelayMs: 20, backoff: "constant", clock }),
    );
    const aborted: unknown[] = [];
    const run = policy.execute(async ({ signal }) => {
      try {
        await sleep(clock, 100, signal);
      } catch (e) {
        aborted.push(e);
      }
      throw new Error("fails");
    });
    await expect(clock.runUntilSettled(run)).rejects.toBeInstanceOf(TimeoutError);
    // Attempts at 0 and 120 fail at 100 and 220; the third, started at 240, is cut at 250.
    expect(clock.now()).toBe(250);
    await expect.poll(() => aborted).toEqual([new TimeoutError(250)]);
    expect(clock.pending).toBe(0);
  });

  it("puts a bulkhead per attempt", async () => {
    const pool = bulkhead(1);
    const policy = wrap(retry({ maxAttempts: 2, initialDelayMs: 0 }), pool);
    let inside = 0;
    await policy.execute(() => {
      inside = pool.executionSlots;
    });
    expect(inside).toBe(0);
    expect(pool.executionSlots).toBe(1);
  });
});
