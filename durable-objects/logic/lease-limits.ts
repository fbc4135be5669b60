/**
 * A queue's lease limits, free of storage and timers: a rate (at most `leases` tasks leased per
 * `periodMs`) and a concurrency cap (at most `maxLeased` tasks leased at once, across every HTTP
 * lease and streaming consumer). Every call takes the time it decides for.
 *
 * The rate is a bucket of `leases` tokens in which each token a lease takes comes back `periodMs`
 * after it was taken. Unlike a bucket refilled at a steady rate (which lets up to twice the limit
 * through in one period: a full bucket, then its refill), this holds exactly: over any window of
 * `periodMs`, at most `leases` tasks are leased.
 */

/** What an operator sets per queue; null means no limit of that kind. */
export interface LeaseLimits {
  rateLimit: { leases: number; periodMs: number } | null;
  maxLeased: number | null;
}

export const NO_LIMITS: LeaseLimits = { rateLimit: null, maxLeased: null };

/** Tokens taken at `at`, back at `at + periodMs`. */
export interface Taken {
  at: number;
  n: number;
}

/** How often each limit cut a lease or push short (operators read it in `stats`). */
export interface Bites {
  rate: number;
  concurrency: number;
}

/** The rate limit's bucket. Keeps one entry per lease that took tokens within the last period. */
export class LeaseBucket {
  readonly leases: number;
  readonly periodMs: number;
  #taken: Taken[];
  #out = 0;

  constructor(leases: number, periodMs: number, taken: readonly Taken[] = []) {
    this.leases = leases;
    this.periodMs = periodMs;
    this.#taken = [...taken].sort((a, b) => a.at - b.at);
    for (const t of this.#taken) this.#out += t.n;
  }

  /** Tokens in the bucket at `now`. */
  available(now: number): number {
    this.#drop(now);
    return Math.max(0, this.leases - this.#out);
  }

  /** Takes `n` tokens at `now` (the caller checked {@link available}). */
  take(now: number, n: number): void {
    if (n <= 0) return;
    const last = this.#taken.at(-1);
    // Times stay ascending even if the clock steps back.
    const at = last === undefined ? now : Math.max(last.at, now);
    if (last?.at === at) last.n += n;
    else this.#taken.push({ at, n });
    this.#out += n;
  }

  /** When the next token comes back, or null when none is out. */
  nextTokenAt(now: number): number | null {
    this.#drop(now);
    const first = this.#taken[0];
    return first === undefined ? null : first.at + this.periodMs;
  }

  /** The entries still out at `now`, oldest first (what a store keeps). */
  live(now: number): Taken[] {
    this.#drop(now);
    return this.#taken.map((t) => ({ ...t }));
  }

  #drop(now: number): void {
    let i = 0;
    while (i < this.#taken.length && (this.#taken[i] as Taken).at + this.periodMs <= now) {
      this.#out -= (this.#taken[i] as Taken).n;
      i++;
    }
    if (i > 0) this.#taken = this.#taken.slice(i);
  }
}

/** How many of the `asked` tasks a lease may take, and which limit (if any) cut it short. */
export interface Allowance {
  allowed: number;
  /** The limit that made `allowed` smaller than `asked`, if one did. */
  bitBy: keyof Bites | null;
}

/**
 * The part of `asked` that the limits allow: no more than the bucket's tokens (`tokens`, infinite
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
