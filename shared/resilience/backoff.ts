/**
 * Backoff schedules: how long to wait before retry number `attempt`. Stateless and pure, with the
 * random source passed in, so a queue or a webhook dispatcher stored in SQLite can compute the
 * next delay from the attempt count alone, and tests get exact sequences.
 */

/** How delays grow with the attempt number. */
export type BackoffKind = "constant" | "linear" | "exponential" | "fibonacci";

/**
 * How randomness spreads the delays (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * `full` picks in [0, d], `equal` in [d/2, d], `decorrelated` in [initial, previous × 3].
 */
export type Jitter = "none" | "full" | "equal" | "decorrelated";

export interface BackoffPolicy {
  kind: BackoffKind;
  /** The first delay, and the unit of growth. */
  initialDelayMs: number;
  /** No delay is ever longer. */
  maxDelayMs: number;
  /** Growth factor for `exponential` (default 2). */
  factor?: number;
  jitter: Jitter;
}

/** A number in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** The n-th Fibonacci number (1, 1, 2, 3, 5, ...), or the first one reaching `limit` if earlier. */
function fibonacci(n: number, limit: number): number {
  let a = 1;
  let b = 1;
  for (let i = 1; i < n && a < limit; i++) [a, b] = [b, a + b];
  return a;
}

/** The delay before jitter for retry `attempt` (1-based), capped at `maxDelayMs`. */
export function baseDelay(policy: BackoffPolicy, attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  const unit = policy.initialDelayMs;
  // Also keeps 0 × Infinity (a huge attempt number) from turning into NaN.
  if (!(unit > 0)) return 0;
  let raw: number;
  switch (policy.kind) {
    case "constant":
      raw = unit;
      break;
    case "linear":
      raw = unit * n;
      break;
    case "exponential":
      raw = unit * (policy.factor ?? 2) ** (n - 1);
      break;
    case "fibonacci":
      // Stops counting once past the cap, so attempt 10⁹ costs no more than attempt 50.
      raw = unit * fibonacci(n, policy.maxDelayMs / unit);
      break;
  }
  return Math.min(policy.maxDelayMs, raw);
}

/**
 * The delay before retry `attempt` (1-based), jittered, never above `maxDelayMs`.
 * `previousDelayMs` feeds decorrelated jitter (the delay this one follows).
 * @example backoffDelay({ kind: "exponential", initialDelayMs: 100, maxDelayMs: 10_000, jitter: "full" }, 3, Math.random)
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: RandomSource,
  previousDelayMs?: number,
): number {
  const d = baseDelay(policy, attempt);
  switch (policy.jitter) {
    case "none":
      return d;
    case "full":
      return Math.floor(random() * d);
    case "equal":
      return Math.floor(d / 2 + random() * (d / 2));
    case "decorrelated": {
      const low = policy.initialDelayMs;
      const high = Math.max(low, (previousDelayMs ?? low) * 3);
      return Math.min(policy.maxDelayMs, Math.floor(low + random() * (high - low)));
    }
  }
}
