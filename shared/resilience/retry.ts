/**
 * Retries: run a task again after a failed attempt, with a backoff schedule from
 * {@link backoffDelay}, until it succeeds, runs out of attempts or time, or the caller aborts.
 */
import {
  type BackoffKind,
  type BackoffPolicy,
  backoffDelay,
  type Jitter,
  type RandomSource,
} from "./backoff.ts";
import { type Clock, sleep, systemClock, systemRandom } from "./clock.ts";
import { abortReason, type ExecuteContext, NEVER_ABORTED, type Policy, type Task } from "./policy.ts";
import { type ErrorFilter, toPredicate } from "./predicates.ts";

/** Why an attempt is retried: it threw `error`, or returned a `result` the predicate rejected. */
export type AttemptFailure = { error: unknown } | { result: unknown };

/** Emitted before each wait. */
export type RetryEvent = AttemptFailure & {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long the policy waits before the next attempt. */
  delayMs: number;
  /** Time since the first attempt started. */
  elapsedMs: number;
};

/** What the fallback is told when attempts or time ran out. */
export type RetryExhausted = AttemptFailure & { attempts: number; elapsedMs: number };

/**
 * A fallback: a value, or a function computing one from the last failure. (To fall back to a
 * function value, return it from a function.)
 */
export type Fallback<F> = F | ((exhausted: RetryExhausted) => F | PromiseLike<F>);

export interface RetryOptions<R = unknown, F = never> {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  /** No attempt starts later than this after the first one (default: no limit). */
  maxElapsedMs?: number;
  /** How delays grow (default `exponential`). */
  backoff?: BackoffKind;
  /** The first delay and the unit of growth (default 100). */
  initialDelayMs?: number;
  /** No single delay is longer (default 30 000). */
  maxDelayMs?: number;
  /** Growth factor of `exponential` (default 2). */
  factor?: number;
  /** How delays are spread (default `full`). */
  jitter?: Jitter;
  /** Errors worth another attempt (default: every error). Others are thrown at once. */
  retryOn?: ErrorFilter;
  /** Results worth another attempt, e.g. `(res) => res.status >= 500` (default: none). */
  retryOnResult?: (result: R) => boolean;
  /** Called before each wait, with the failed attempt, the delay and the error or result. */
  onRetry?: (event: RetryEvent) => void;
  /** Answered instead of the last error or result when attempts or time run out. */
  fallback?: Fallback<F>;
  clock?: Clock;
  random?: RandomSource;
}

const DEFAULT_BACKOFF: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  jitter: "full",
};

/** A retry policy; use it alone or inside `wrap`. */
export class RetryPolicy<F = never> implements Policy<F> {
  declare readonly "~fallback"?: () => F;
  /** The schedule the delays follow. */
  readonly backoff: BackoffPolicy;
  readonly maxAttempts: number;
  readonly maxElapsedMs: number;
  private readonly shouldRetry: (error: unknown) => boolean;
  private readonly options: RetryOptions<unknown, F>;
  private readonly clock: Clock;
  private readonly random: RandomSource;

  constructor(options: RetryOptions<unknown, F> = {}) {
    this.options = options;
    this.backoff = {
      kind: options.backoff ?? DEFAULT_BACKOFF.kind,
      initialDelayMs: options.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
      jitter: options.jitter ?? DEFAULT_BACKOFF.jitter,
    };
    if (options.factor !== undefined) this.backoff.factor = options.factor;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.maxElapsedMs = options.maxElapsedMs ?? Number.POSITIVE_INFINITY;
    if (!(this.maxAttempts >= 1)) throw new RangeError("maxAttempts must be at least 1");
    this.shouldRetry = toPredicate(options.retryOn);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
  }

  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T | F> {
    const context: ExecuteContext = { signal };
    const { retryOnResult, onRetry } = this.options;
    const start = this.clock.now();
    let previousDelay: number | undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw abortReason(signal);
      let failure: AttemptFailure;
      try {
        const result = await fn(context);
        if (!retryOnResult?.(result as never)) return result;
        failure = { result };
      } catch (error) {
        if (signal.aborted || !this.shouldRetry(error)) throw error;
        failure = { error };
      }
      const elapsedMs = this.clock.now() - start;
      const delayMs = backoffDelay(this.backoff, attempt, this.random, previousDelay);
      if (attempt >= this.maxAttempts || elapsedMs + delayMs > this.maxElapsedMs) {
        return this.exhausted(failure, attempt, elapsedMs);
      }
      onRetry?.({ ...failure, attempt, delayMs, elapsedMs });
      previousDelay = delayMs;
      await sleep(this.clock, delayMs, signal);
    }
  }

  private async exhausted(failure: AttemptFailure, attempts: number, elapsedMs: number): Promise<F> {
    const { fallback } = this.options;
    if (!("fallback" in this.options)) {
      if ("error" in failure) throw failure.error;
      return failure.result as F;
    }
    if (typeof fallback !== "function") return fallback as F;
    return (fallback as (e: RetryExhausted) => F | PromiseLike<F>)({ ...failure, attempts, elapsedMs });
  }
}

/** A retry policy to `execute` tasks with, or to compose with `wrap`. */
export function retry<F = never>(options?: RetryOptions<unknown, F>): RetryPolicy<F>;
/**
 * Runs `fn` with retries at once.
 * @example const body = await retry(() => fetch(url).then((r) => r.json()), { maxAttempts: 5, retryOn: TypeError });
 */
export function retry<T, F = never>(
  fn: Task<T>,
  options?: RetryOptions<T, F>,
  signal?: AbortSignal,
): Promise<T | F>;
export function retry<T, F>(
  fnOrOptions?: Task<T> | RetryOptions<unknown, F>,
  options?: RetryOptions<T, F>,
  signal?: AbortSignal,
): RetryPolicy<F> | Promise<T | F> {
  if (typeof fnOrOptions === "function") {
    return new RetryPolicy(options as RetryOptions<unknown, F>).execute(fnOrOptions, signal);
  }
  return new RetryPolicy(fnOrOptions);
}
