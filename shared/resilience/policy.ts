/**
 * The shape every policy shares: `execute(fn, signal)` runs `fn` under the policy and hands it an
 * `AbortSignal` to honour. Policies nest through that signal, which is how `wrap` composes them.
 */

/** What a policy hands the function it runs. */
export interface ExecuteContext {
  /** Fires when the caller gives up or a deadline passes; the work should stop then. */
  readonly signal: AbortSignal;
}

/** Work a policy runs: sync or async, told through its context when to stop. */
export type Task<T> = (context: ExecuteContext) => T | PromiseLike<T>;

/**
 * A resilience policy. `F` is what it may answer instead of the task's own result (a fallback);
 * `never` for policies that only pass results through or throw.
 */
export interface Policy<F = never> {
  /** Type-level only, never set: lets `wrap` infer the fallback type. */
  readonly "~fallback"?: () => F;
  /** Runs `fn` under this policy; `signal` lets the caller give up at any time. */
  execute<T>(fn: Task<T>, signal?: AbortSignal): Promise<T | F>;
}

/** A signal that never fires, for callers that pass none (one shared instance, no allocation per call). */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** The error a signal aborted with, or a standard `AbortError` when it gave none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}
