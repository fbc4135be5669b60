import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AdaptiveTimeoutOptions,
  adaptiveTimeout,
  ManualClock,
  sleep,
  TimeoutError,
  timeout,
  timeoutPartial,
} from "../../../shared/resilience/index.ts";

describe("timeout", () => {
  it("passes the result through and clears its timer", async () => {
    const clock = new ManualClock();
    expect(await timeout(async () => 7, { ms: 100, clock })).toBe(7);
    expect(clock.pending).toBe(0);
  });

  it("rejects with TimeoutError at the deadline and aborts the task's signal with it", async () => {
    const clock = new ManualClock();
    const steps: string[] = [];
    const promise = timeout(
      async ({ signal }) => {
        steps.push("start");
        try {
          await sleep(clock, 1_000, signal);
          steps.push("finished");
        } catch (err) {
          steps.push(`aborted: ${(err as Error).name}`);
        }
      },
      { ms: 100, clock },
    );
    clock.advance(99);
    expect(steps).toEqual(["start"]);
    clock.advance(1);
    await expect(promise).rejects.toEqual(new TimeoutError(100));
    await expect.poll(() => steps).toEqual(["start", "aborted: TimeoutError"]);
    expect(clock.pending).toBe(0);
  });

  it("answers at the deadline even when the task ignores its signal", async () => {
    const clock = new ManualClock();
    const promise = timeout(() => new Promise<never>(() => {}), { ms: 50, clock });
    clock.advance(50);
    await expect(promise).rejects.toBeInstanceOf(TimeoutError);
  });

  it("passes the caller's abort to the task at once", async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    let seen: unknown;
    const policy = timeout({ ms: 1_000, clock });
    const promise = policy.execute(({ signal }) => {
      signal.addEventListener("abort", () => (seen = signal.reason));
      return new Promise<never>(() => {});
    }, caller.signal);
    caller.abort(new Error("client left"));
    await expect(promise).rejects.toThrow("client left");
    expect(seen).toEqual(new Error("client left"));
    expect(clock.pending).toBe(0);
  });

  it("turns a synchronous throw into a rejection", async () => {
    await expect(
      timeout(() => {
        throw new RangeError("sync");
      }, 100),
    ).rejects.toBeInstanceOf(RangeError);
    expect(() => timeout(0)).toThrow(RangeError);
  });
});

describe("timeout against real work", () => {
  const received: Array<() => void> = [];
  const closed: Promise<void>[] = [];
  let server: ReturnType<typeof createServer>;
  let url: string;

  beforeAll(async () => {
    // Holds every request open and notes when it arrives and when the client hangs up.
    server = createServer((req: IncomingMessage) => {
      closed.push(new Promise((resolve) => req.socket.once("close", () => resolve())));
      received.shift()?.();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("aborts a fetch at the deadline: the server sees the connection close", async () => {
    const clock = new ManualClock();
    const arrived = new Promise<void>((resolve) => received.push(resolve));
    const call = timeout(({ signal }) => fetch(url, { signal }), { ms: 5_000, clock });
    await arrived;
    clock.advance(5_000);
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    await closed[0];
  });
});

describe("timeoutPartial", () => {
  it("returns what was reported by the deadline, and aborts the rest", async () => {
    const clock = new ManualClock();
    let stoppedAt: number | undefined;
    const promise = timeoutPartial<string[]>(
      async ({ signal, report }) => {
        const got: string[] = [];
        for (const shard of ["a", "b", "c", "d"]) {
          try {
            await sleep(clock, 30, signal);
          } catch {
            stoppedAt = clock.now();
            return got;
          }
          got.push(shard);
          report([...got]);
        }
        return got;
      },
      { ms: 100, clock },
    );
    const outcome = await clock.runUntilSettled(promise);
    expect(outcome).toEqual({ complete: false, partial: ["a", "b", "c"], timeoutMs: 100 });
    await expect.poll(() => stoppedAt).toBe(100);
  });

  it("returns the whole result when the task finishes in time", async () => {
    const outcome = await timeoutPartial(async ({ report }) => {
      report(1);
      return 2;
    }, 1_000);
    expect(outcome).toEqual({ complete: true, value: 2 });
  });

  it("has nothing to give when nothing was reported", async () => {
    const clock = new ManualClock();
    const promise = timeoutPartial(() => new Promise<never>(() => {}), { ms: 10, clock });
    clock.advance(10);
    expect(await promise).toEqual({ complete: false, partial: undefined, timeoutMs: 10 });
  });
});

describe("adaptiveTimeout", () => {
  /**
   * An adaptive timeout on a manual clock, and `call(ms)`, which runs one call lasting `ms` through
   * it: "ok", "timeout <deadline>" or "error".
   */
  function onClock(options: Omit<AdaptiveTimeoutOptions, "clock">) {
    const clock = new ManualClock();
    const policy = adaptiveTimeout({ ...options, clock });
    const call = (ms: number) =>
      clock.runUntilSettled(policy.execute(({ signal }) => sleep(clock, ms, signal))).then(
        () => "ok",
        (e: unknown) => (e instanceof TimeoutError ? `timeout ${e.timeoutMs}` : "error"),
      );
    return { policy, call };
  }

  it("uses maxMs until it has minSamples, then p × factor of recent durations, clamped", async () => {
    const { policy, call } = onClock({ minMs: 20, maxMs: 1_000, percentile: 0.9, factor: 2, minSamples: 10 });
    expect(policy.currentMs).toBe(1_000);
    for (let i = 1; i <= 9; i++) await call(i * 10);
    expect(policy.currentMs).toBe(1_000);
    await call(100);
    // Durations 10..100: the 90th percentile (nearest rank) is 90; × 2.
    expect(policy.currentMs).toBe(180);
    expect(await call(200)).toBe("timeout 180");
  });

  it("clamps to minMs and maxMs", () => {
    const low = adaptiveTimeout({ minMs: 50, maxMs: 500, minSamples: 1 });
    low.record(1);
    expect(low.currentMs).toBe(50);
    const high = adaptiveTimeout({ minMs: 50, maxMs: 500, minSamples: 1 });
    high.record(10_000);
    expect(high.currentMs).toBe(500);
    expect(() => adaptiveTimeout({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
  });

  it("forgets durations older than the window, and timeouts pull the deadline up", async () => {
    const { policy, call } = onClock({
      minMs: 1,
      maxMs: 10_000,
      percentile: 1,
      factor: 2,
      windowSize: 5,
      minSamples: 5,
    });
    for (const ms of [100, 10, 10, 10, 10]) await call(ms);
    expect(policy.currentMs).toBe(200);
    await call(10);
    expect(policy.currentMs).toBe(20);
    // The dependency got slower for good: each timeout records the deadline, which then doubles.
    expect(await call(70)).toBe("timeout 20");
    expect(policy.currentMs).toBe(40);
    expect(await call(70)).toBe("timeout 40");
    expect(await call(70)).toBe("ok");
  });
});
