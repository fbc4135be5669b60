/**
 * Deadlines. The task gets an `AbortSignal` that fires at the deadline (cooperative cancellation:
 * a `fetch` given that signal really stops); the caller is answered at the deadline either way,
 * with a {@link TimeoutError} or, in the partial form, with what the task had gathered by then.
 */
import { type Clock, systemClock } from "./clock.ts";
import { TimeoutError } from "./errors.ts";
import { abortReason, type ExecuteContext, NEVER_ABORTED, type Policy, type Task } from "./policy.ts";

export interface TimeoutOptions {
  /** The deadline, in milliseconds after the start. */
  ms: number;
  clock?: Clock;
}

/**
 * Runs `fn` against a deadline on `clock`. At the deadline the task's signal aborts with a
 * `TimeoutError` and the caller gets `onExpire()` (or that error, without `onExpire`); when the
 * caller's `parent` signal aborts first, the task's signal aborts with the same reason.
 */
export function runWithDeadline<T>(
  fn: Task<T>,
  ms: number,
  clock: Clock,
  parent: AbortSignal,
  onExpire?: () => T,
): Promise<T> {
  if (parent.aborted) return Promise.reject(abortReason(parent));
  const controller = new AbortController();
  const listening = parent !== NEVER_ABORTED;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = () => {
      settled = true;
      clock.clearTimer(timer);
      if (listening) parent.removeEventListener("abort", onParentAbort);
    };
    const onParentAbort = () => {
      if (settled) return;
      finish();
      controller.abort(parent.reason);
      reject(abortReason(parent));
    };
    const timer = clock.setTimer(() => {
      if (settled) return;
      finish();
      const error = new TimeoutError(ms);
      controller.abort(error);
      if (!onExpire) return reject(error);
      try {
        resolve(onExpire());
      } catch (err) {
        reject(err);
      }
    }, ms);
    if (listening) parent.addEventListener("abort", onParentAbort);
    let pending: T | PromiseLike<T>;
    try {
      pending = fn({ signal: controller.signal });
    } catch (err) {
      finish();
      reject(err);
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        finish();
        reject(err);
      },
    );
  });
}

/** A fixed deadline per execution. */
export class TimeoutPolicy implements Policy {
  readonly ms: number;
  private readonly clock: Clock;

  constructor(options: TimeoutOptions) {
    if (!(options.ms > 0)) throw new RangeError("timeout ms must be positive");
    this.ms = options.ms;
    this.clock = options.clock ?? systemClock;
  }

  execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    return runWithDeadline(fn, this.ms, this.clock, signal);
  }
}

/** A timeout policy of `ms` (or options) to compose with `wrap`. */
export function timeout(msOrOptions: number | TimeoutOptions): TimeoutPolicy;
/**
 * Runs `fn` with a deadline at once.
 * @example const res = await timeout(({ signal }) => fetch(url, { signal }), 2_000);
 */
export function timeout<T>(
  fn: Task<T>,
  msOrOptions: number | TimeoutOptions,
  signal?: AbortSignal,
): Promise<T>;
export function timeout<T>(
  first: Task<T> | number | TimeoutOptions,
  msOrOptions?: number | TimeoutOptions,
  signal?: AbortSignal,
): TimeoutPolicy | Promise<T> {
  const options = (o: number | TimeoutOptions | undefined): TimeoutOptions =>
    typeof o === "number" ? { ms: o } : (o ?? { ms: Number.NaN });
  if (typeof first === "function") return new TimeoutPolicy(options(msOrOptions)).execute(first, signal);
  return new TimeoutPolicy(options(first));
}

/** What the task of {@link timeoutPartial} gets: the signal, and a way to hand over progress. */
export interface PartialContext<P> extends ExecuteContext {
  /** Replaces what the caller gets if the deadline passes first. */
  report(partial: P): void;
}

/** The whole result, or what had been reported by the deadline. */
export type PartialOutcome<T, P> =
  | { complete: true; value: T }
  | { complete: false; partial: P | undefined; timeoutMs: number };

/**
 * Runs `fn` with a deadline; at the deadline answers with the last value `fn` reported instead
 * of failing, and aborts `fn`'s signal.
 * @example
 * const out = await timeoutPartial(async ({ signal, report }) => {
 *   const hits: Hit[] = [];
 *   for (const shard of shards) { hits.push(...(await search(shard, signal))); report(hits); }
 *   return hits;
 * }, 500);
 */
export function timeoutPartial<T, P = T>(
  fn: (context: PartialContext<P>) => T | PromiseLike<T>,
  msOrOptions: number | TimeoutOptions,
  signal: AbortSignal = NEVER_ABORTED,
): Promise<PartialOutcome<T, P>> {
  const { ms, clock = systemClock } = typeof msOrOptions === "number" ? { ms: msOrOptions } : msOrOptions;
  let partial: P | undefined;
  const report = (p: P) => {
    partial = p;
  };
  return runWithDeadline<PartialOutcome<T, P>>(
    async ({ signal: inner }) => ({ complete: true, value: await fn({ signal: inner, report }) }),
    ms,
    clock,
    signal,
    () => ({ complete: false, partial, timeoutMs: ms }),
  );
}
