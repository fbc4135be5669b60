/**
 * Time and chance, injectable: the one `Clock` of the codebase. Every policy and the database pool
 * read the time, set timers and draw random numbers through these, so tests run on a
 * {@link ManualClock} and a fixed random source, exactly and without sleeping.
 */
import type { RandomSource } from "./backoff.ts";
import { abortReason } from "./policy.ts";

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Where policies get the time and their timers. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin). */
  now(): number;
  /** Calls `callback` once after `ms`. */
  setTimer(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired; harmless on one that has. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The real random source. */
export const systemRandom: RandomSource = Math.random;

/**
 * Waits `ms` on `clock`; rejects with the signal's reason the moment `signal` aborts.
 * @example await sleep(systemClock, 250, request.signal);
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimer(handle);
      reject(abortReason(signal as AbortSignal));
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A random source that replays `values` in a loop: deterministic jitter for tests.
 * @example const random = sequence([0, 0.5, 0.999]);
 */
export function sequence(values: readonly number[]): RandomSource {
  if (values.length === 0) throw new RangeError("sequence needs at least one value");
  let i = 0;
  return () => values[i++ % values.length] as number;
}

interface ManualTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A clock that moves only when told. `advance` fires due timers in time order, synchronously;
 * `runUntilSettled` lets pending work run, then jumps from timer to timer until a promise settles,
 * so a test of a retry schedule takes no wall time at all.
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way at its own instant. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (let next = this.takeDue(until); next; next = this.takeDue(until)) {
      this.time = next.at;
      next.callback();
    }
    this.time = until;
  }

  /**
   * Lets `promise` make progress: drains pending callbacks, then jumps to the next timer, until it
   * settles. Fails when nothing is left to fire and it still has not settled.
   */
  async runUntilSettled<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (;;) {
      // A macrotask turn drains every queued promise callback before time moves on.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (settled) return promise;
      const next = this.earliest();
      if (!next) throw new Error("ManualClock: no timer left and the promise has not settled");
      this.advance(next.at - this.time);
    }
  }

  private earliest(): ManualTimer | undefined {
    let min: ManualTimer | undefined;
    for (const t of this.timers) if (!min || t.at < min.at || (t.at === min.at && t.id < min.id)) min = t;
    return min;
  }

  private takeDue(until: number): ManualTimer | undefined {
    const next = this.earliest();
    if (!next || next.at > until) return undefined;
    this.timers = this.timers.filter((t) => t !== next);
    return next;
  }
}
