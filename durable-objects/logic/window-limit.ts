/**
 * An exact sliding-window limit, free of storage and timers: at most `limit` units are taken in
 * any window of `periodMs`; each unit comes back `periodMs` after it was taken. Unlike a bucket
 * refilled at a steady rate (which lets up to twice the limit through in one period: a full bucket,
 * then its refill), this holds exactly. It keeps one entry per instant that took units within the
 * last period, oldest first, so memory grows with use and never past the limit.
 *
 * A queue's lease rate takes several units at once (a lease of many tasks); a scoped token's
 * request rate takes one per call ({@link takeOne}).
 */

/** Units taken at `at`, back at `at + periodMs`. */
export interface Taken {
  at: number;
  n: number;
}

export class WindowLimit {
  readonly limit: number;
  readonly periodMs: number;
  /** Ascending by `at`, from `#head` on (entries before it have left the window). */
  #taken: Taken[];
  #head = 0;
  /** Units taken by the entries from `#head` on. */
  #out = 0;

  constructor(limit: number, periodMs: number, taken: readonly Taken[] = []) {
    this.limit = limit;
    this.periodMs = periodMs;
    this.#taken = taken.map((t) => ({ ...t })).sort((a, b) => a.at - b.at);
    for (const t of this.#taken) this.#out += t.n;
  }

  /** Units that may be taken at `now`. */
  available(now: number): number {
    this.#drop(now);
    return Math.max(0, this.limit - this.#out);
  }

  /** Takes `n` units at `now` (the caller checked {@link available}). */
  take(now: number, n = 1): void {
    if (n <= 0) return;
    const last = this.#taken.at(-1);
    // Times stay ascending even if the clock steps back.
    const at = last === undefined ? now : Math.max(last.at, now);
    if (last !== undefined && last.at === at && this.#taken.length > this.#head) last.n += n;
    else this.#taken.push({ at, n });
    this.#out += n;
  }

  /** When the next unit comes back, or null when none is out. */
  nextFreeAt(now: number): number | null {
    this.#drop(now);
    const first = this.#taken[this.#head];
    return first === undefined ? null : first.at + this.periodMs;
  }

  /** The entries still in the window at `now`, oldest first (what a store keeps). */
  live(now: number): Taken[] {
    this.#drop(now);
    return this.#taken.slice(this.#head).map((t) => ({ ...t }));
  }

  #drop(now: number): void {
    while (this.#head < this.#taken.length) {
      const first = this.#taken[this.#head] as Taken;
      if (first.at + this.periodMs > now) break;
      this.#out -= first.n;
      this.#head++;
    }
    // Compact now and then rather than shift on every drop: a busy token drops one entry a call.
    if (this.#head > 1024 && this.#head * 2 > this.#taken.length) {
      this.#taken = this.#taken.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A call counted against a limit: allowed, or refused with how long until one would be. */
export type Take = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Takes one unit at `now` if one is available, or says when to retry. */
export function takeOne(window: WindowLimit, now: number): Take {
  if (window.available(now) < 1) {
    const freeAt = window.nextFreeAt(now) ?? now;
    return { allowed: false, retryAfterMs: Math.max(1, freeAt - now) };
  }
  window.take(now);
  return { allowed: true };
}
