/**
 * An exact sliding-window limit: a call is allowed when fewer than `requests` calls were allowed
 * in the `periodMs` before it. It keeps the times of the last `requests` allowed calls (at most),
 * oldest first, so memory grows with use and never past the limit.
 */
export type Take = { allowed: true } | { allowed: false; retryAfterMs: number };

export class SlidingLog {
  readonly #requests: number;
  readonly #periodMs: number;
  /** Allowed calls' times, ascending, from `#head` on. */
  #times: number[];
  #head = 0;

  constructor(requests: number, periodMs: number, times: readonly number[] = []) {
    this.#requests = requests;
    this.#periodMs = periodMs;
    this.#times = [...times].sort((a, b) => a - b).slice(-requests);
  }

  /** The times still inside the window at `now`, oldest first (what a store must keep). */
  live(now: number): number[] {
    this.#drop(now);
    return this.#times.slice(this.#head);
  }

  /** Allows and records a call at `now`, or says how long until one would be allowed. */
  take(now: number): Take {
    this.#drop(now);
    if (this.#times.length - this.#head >= this.#requests) {
      const oldest = this.#times[this.#head] as number;
      return { allowed: false, retryAfterMs: Math.max(1, oldest + this.#periodMs - now) };
    }
    // Times stay ascending even if the clock steps back.
    const last = this.#times[this.#times.length - 1];
    this.#times.push(last === undefined ? now : Math.max(last, now));
    return { allowed: true };
  }

  #drop(now: number): void {
    const cutoff = now - this.#periodMs;
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= cutoff) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
