/**
 * A timeout that follows the dependency: the deadline is a percentile of recent durations times
 * a factor, clamped to [minMs, maxMs]. A call that times out counts as lasting the deadline, so
 * a dependency that slows down for good pulls the deadline up (by `factor` per window) instead of
 * failing forever.
 */
import { type Clock, systemClock } from "./clock.ts";
import { TimeoutError } from "./errors.ts";
import { NEVER_ABORTED, type Policy, type Task } from "./policy.ts";
import { runWithDeadline } from "./timeout.ts";

export interface AdaptiveTimeoutOptions {
  /** Shortest deadline. */
  minMs: number;
  /** Longest deadline; also the deadline until enough samples are in. */
  maxMs: number;
  /** The percentile of recent durations, in (0, 1] (default 0.99). */
  percentile?: number;
  /** Headroom over that percentile (default 1.5). */
  factor?: number;
  /** How many recent durations count (default 100). */
  windowSize?: number;
  /** Samples needed before the deadline adapts (default 10). */
  minSamples?: number;
  clock?: Clock;
}

/** The last `size` durations, kept both in arrival order and sorted, for O(size) updates. */
class RecentDurations {
  private readonly ring: number[] = [];
  private readonly sorted: number[] = [];
  private next = 0;
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  get count(): number {
    return this.ring.length;
  }

  add(ms: number): void {
    if (this.ring.length === this.size) {
      const evicted = this.ring[this.next] as number;
      this.sorted.splice(this.indexOf(evicted), 1);
      this.ring[this.next] = ms;
    } else {
      this.ring.push(ms);
    }
    this.next = (this.next + 1) % this.size;
    this.sorted.splice(this.indexOf(ms), 0, ms);
  }

  /** Nearest-rank percentile: the smallest sample that at least `p` of them do not exceed. */
  percentile(p: number): number {
    const rank = Math.max(1, Math.ceil(p * this.sorted.length));
    return this.sorted[rank - 1] as number;
  }

  /** First index whose value is not below `ms`. */
  private indexOf(ms: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as number) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class AdaptiveTimeoutPolicy implements Policy {
  private readonly durations: RecentDurations;
  private readonly options: Required<Omit<AdaptiveTimeoutOptions, "clock">>;
  private readonly clock: Clock;

  constructor(options: AdaptiveTimeoutOptions) {
    if (!(options.minMs > 0 && options.maxMs >= options.minMs)) {
      throw new RangeError("adaptive timeout needs 0 < minMs <= maxMs");
    }
    this.options = {
      percentile: 0.99,
      factor: 1.5,
      windowSize: 100,
      minSamples: 10,
      ...options,
    };
    this.clock = options.clock ?? systemClock;
    this.durations = new RecentDurations(this.options.windowSize);
  }

  /** The deadline the next execution gets. */
  get currentMs(): number {
    const { minMs, maxMs, percentile, factor, minSamples } = this.options;
    if (this.durations.count < minSamples) return maxMs;
    const ms = Math.ceil(this.durations.percentile(percentile) * factor);
    return Math.min(maxMs, Math.max(minMs, ms));
  }

  /** Adds a duration sample, as if a call had taken `ms`. */
  record(ms: number): void {
    this.durations.add(ms);
  }

  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    const ms = this.currentMs;
    const start = this.clock.now();
    try {
      const value = await runWithDeadline(fn, ms, this.clock, signal);
      this.record(this.clock.now() - start);
      return value;
    } catch (err) {
      if (err instanceof TimeoutError) this.record(ms);
      throw err;
    }
  }
}

/**
 * A timeout whose deadline adapts to recent durations.
 * @example const policy = adaptiveTimeout({ minMs: 50, maxMs: 5_000, percentile: 0.99, factor: 2 });
 */
export function adaptiveTimeout(options: AdaptiveTimeoutOptions): AdaptiveTimeoutPolicy {
  return new AdaptiveTimeoutPolicy(options);
}
