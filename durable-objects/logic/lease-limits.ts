/**
 * A queue's lease limits, free of storage and timers: a rate (at most `leases` tasks leased per
 * `periodMs`) and a concurrency cap (at most `maxLeased` tasks leased at once, across every HTTP
 * lease and streaming consumer). Every call takes the time it decides for.
 *
 * The rate is a {@link WindowLimit} of `leases` per `periodMs` (./window-limit.ts): over any window
 * of `periodMs`, at most `leases` tasks are leased.
 */

/** What an operator sets per queue; null means no limit of that kind. */
export interface LeaseLimits {
  rateLimit: { leases: number; periodMs: number } | null;
  maxLeased: number | null;
}

export const NO_LIMITS: LeaseLimits = { rateLimit: null, maxLeased: null };

/** How often each limit cut a lease or push short (operators read it in `stats`). */
export interface Bites {
  rate: number;
  concurrency: number;
}

/** How many of the `asked` tasks a lease may take, and which limit (if any) cut it short. */
export interface Allowance {
  allowed: number;
  /** The limit that made `allowed` smaller than `asked`, if one did. */
  bitBy: keyof Bites | null;
}

/**
 * The part of `asked` that the limits allow: no more than the rate's free units (`tokens`, infinite
 * without a rate limit) and no more than `maxLeased` minus the tasks leased now.
 */
export function allowance(
  asked: number,
  tokens: number,
  leased: number,
  maxLeased: number | null,
): Allowance {
  const room = maxLeased === null ? Number.POSITIVE_INFINITY : Math.max(0, maxLeased - leased);
  const allowed = Math.min(asked, tokens, room);
  if (allowed >= asked) return { allowed, bitBy: null };
  return { allowed, bitBy: room <= tokens ? "concurrency" : "rate" };
}
