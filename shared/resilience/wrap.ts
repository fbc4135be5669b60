/**
 * Composition: `wrap(a, b, c).execute(fn)` runs `a.execute(() => b.execute(() => c.execute(fn)))`.
 * The first policy is the outermost. Each passes its signal inwards, so a caller's abort or an
 * outer deadline reaches the task.
 *
 * The order that usually fits, outermost first:
 * `wrap(retry({ fallback }), circuitBreaker(), bulkhead(), timeout())` — every attempt asks the
 * breaker (so an open circuit stops the retries with `BrokenCircuitError`, which `retryOn` can
 * exclude), takes a bulkhead slot, and gets its own deadline; a timeout counts as a failure for
 * the breaker and is retried. Put `timeout` outermost instead to bound all attempts together.
 */
import { NEVER_ABORTED, type Policy, type Task } from "./policy.ts";

/** The fallback type of a policy (`never` for policies without one). */
export type FallbackOf<P> = P extends { readonly "~fallback"?: () => infer F }
  ? unknown extends F
    ? never
    : F
  : never;

class WrappedPolicy<F> implements Policy<F> {
  declare readonly "~fallback"?: () => F;
  private readonly policies: readonly Policy<unknown>[];

  constructor(policies: readonly Policy<unknown>[]) {
    this.policies = policies;
  }

  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T | F> {
    const policies = this.policies;
    const run = (i: number, s: AbortSignal): Promise<unknown> | T | PromiseLike<T> => {
      const policy = policies[i];
      if (!policy) return fn({ signal: s });
      return policy.execute((ctx) => run(i + 1, ctx.signal), s);
    };
    return (await run(0, signal)) as T | F;
  }
}

/**
 * Composes policies, the first outermost.
 * @example
 * const resilient = wrap(retry({ maxAttempts: 3 }), circuitBreaker({ consecutiveFailures: 5 }), timeout(2_000));
 * const res = await resilient.execute(({ signal }) => fetch(url, { signal }));
 */
export function wrap<P extends readonly Policy<unknown>[]>(...policies: P): Policy<FallbackOf<P[number]>> {
  return new WrappedPolicy<FallbackOf<P[number]>>(policies);
}
