/**
 * The in-process circuit breaker policy: the rules of {@link Breaker} around `execute`, with a
 * clock, the errors and results that count as failures, and state-change listeners.
 */
import {
  Breaker,
  type BreakerConfig,
  type BreakerCounters,
  type BreakerSnapshot,
  type CircuitStateName,
  type StateChange,
} from "./breaker.ts";
import { type Clock, systemClock } from "./clock.ts";
import { BrokenCircuitError } from "./errors.ts";
import { NEVER_ABORTED, type Policy, type Task } from "./policy.ts";
import { type ErrorFilter, toPredicate } from "./predicates.ts";

export interface CircuitBreakerOptions {
  /** Failures in a row that open the circuit (default 5; `Infinity` to rely on rates alone). */
  consecutiveFailures?: number;
  /** Share of failed (or slow) calls, in (0, 1], that opens it, once `minimumCalls` are in the window. */
  failureRate?: number;
  /** Share of slow calls alone, in (0, 1], that opens it. */
  slowCallRate?: number;
  /** A call taking at least this long is slow. */
  slowCallMs?: number;
  /** Calls the window must hold before a rate counts (default 10). */
  minimumCalls?: number;
  /** Measure rates over the last this-many calls... */
  windowSize?: number;
  /** ...or over the last this-many milliseconds (default 60 000). */
  windowMs?: number;
  /** Cool-down before half-open (default 30 000). */
  openMs?: number;
  /** Probes at once in half-open, and successes that close it (default 1). */
  halfOpenProbes?: number;
  /** Errors that count as failures (default: all). Others pass through as successes of the dependency. */
  failureOn?: ErrorFilter;
  /** Results that count as failures, e.g. `(res) => res.status >= 500`. */
  failureOnResult?: (result: unknown) => boolean;
  /** Called on every state change. */
  onStateChange?: (change: StateChange) => void;
  /** Start from a saved `toJSON()`. */
  initialState?: BreakerSnapshot;
  clock?: Clock;
}

function inRange(name: string, value: number | undefined, low: number, high: number, lowOpen = false): void {
  if (value === undefined) return;
  if (!(lowOpen ? value > low : value >= low) || !(value <= high)) {
    throw new RangeError(`${name} must be in ${lowOpen ? "(" : "["}${low}, ${high}]`);
  }
}

/** Checks the options and fills in the defaults. */
export function breakerConfig(options: CircuitBreakerOptions): BreakerConfig {
  const { windowSize, windowMs } = options;
  if (windowSize !== undefined && windowMs !== undefined) {
    throw new RangeError("give windowSize (calls) or windowMs (time), not both");
  }
  inRange("consecutiveFailures", options.consecutiveFailures, 1, Number.POSITIVE_INFINITY);
  inRange("failureRate", options.failureRate, 0, 1, true);
  inRange("slowCallRate", options.slowCallRate, 0, 1, true);
  inRange("minimumCalls", options.minimumCalls, 1, Number.MAX_SAFE_INTEGER);
  inRange("windowSize", windowSize, 1, 1_000_000);
  inRange("windowMs", windowMs, 1, Number.MAX_SAFE_INTEGER);
  inRange("openMs", options.openMs, 0, Number.MAX_SAFE_INTEGER);
  inRange("halfOpenProbes", options.halfOpenProbes, 1, Number.MAX_SAFE_INTEGER);
  const config: BreakerConfig = {
    consecutiveFailures: options.consecutiveFailures ?? 5,
    minimumCalls: options.minimumCalls ?? 10,
    window:
      windowSize !== undefined
        ? { kind: "count", size: windowSize }
        : { kind: "time", ms: windowMs ?? 60_000 },
    openMs: options.openMs ?? 30_000,
    halfOpenProbes: options.halfOpenProbes ?? 1,
  };
  if (options.failureRate !== undefined) config.failureRate = options.failureRate;
  if (options.slowCallRate !== undefined) config.slowCallRate = options.slowCallRate;
  if (options.slowCallMs !== undefined) config.slowCallMs = options.slowCallMs;
  return config;
}

export class CircuitBreakerPolicy implements Policy {
  private readonly breaker: Breaker;
  private readonly clock: Clock;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly failureOnResult: ((result: unknown) => boolean) | undefined;
  private readonly timesCalls: boolean;
  private readonly listeners = new Set<(change: StateChange) => void>();

  constructor(options: CircuitBreakerOptions = {}) {
    const config = breakerConfig(options);
    this.clock = options.clock ?? systemClock;
    this.isFailure = toPredicate(options.failureOn);
    this.failureOnResult = options.failureOnResult;
    this.timesCalls = config.slowCallMs !== undefined;
    if (options.onStateChange) this.listeners.add(options.onStateChange);
    this.breaker = new Breaker(config, options.initialState, (change) => {
      for (const listener of this.listeners) listener(change);
    });
  }

  /** The state now: `closed`, `open` or `half_open`. */
  get state(): CircuitStateName {
    return this.breaker.state(this.clock.now()).state;
  }

  /** Lifetime counts of calls, failures, rejections and openings. */
  get counters(): BreakerCounters {
    return { ...this.breaker.counters };
  }

  /** Listens to state changes; returns a function that stops listening. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The whole state, to persist and pass back as `initialState`. */
  toJSON(): BreakerSnapshot {
    return this.breaker.toJSON();
  }

  /** Runs `fn` when the circuit lets it; throws {@link BrokenCircuitError} when not. */
  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    const clock = this.clock;
    const admission = this.breaker.acquire(clock.now());
    if (!admission.allowed) {
      throw new BrokenCircuitError(admission.state, admission.retryAfterMs, clock.now());
    }
    const start = this.timesCalls ? clock.now() : 0;
    let result: T;
    try {
      result = await fn({ signal });
    } catch (err) {
      // A caller that gave up says nothing about the dependency: free a probe slot, count nothing.
      if (signal.aborted) this.breaker.abandon(clock.now());
      else this.report(!this.isFailure(err), start);
      throw err;
    }
    this.report(!this.failureOnResult?.(result), start);
    return result;
  }

  private report(ok: boolean, start: number): void {
    const now = this.clock.now();
    this.breaker.record(ok, this.timesCalls ? now - start : undefined, now);
  }
}

/**
 * A circuit breaker; share one instance between all calls to the same dependency.
 * @example const breaker = circuitBreaker({ failureRate: 0.5, minimumCalls: 20, windowMs: 10_000, openMs: 5_000 });
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return new CircuitBreakerPolicy(options);
}
