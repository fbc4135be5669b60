/**
 * The grant rules of one lock, free of storage and timers: a counting semaphore with fencing
 * tokens, TTL expiry and a first-come-first-served wait queue. The lock object loads this from
 * SQLite, calls it with the current time, and writes back what changed.
 */

/** A live grant. */
export interface Holder {
  owner: string;
  token: number;
  expiresAt: number;
}

/** A caller waiting for a permit; `id` is unique per object instance. */
export interface Waiter {
  id: number;
  owner: string;
  ttlMs: number;
}

/** What `acquire` decided. */
export type AcquireDecision =
  | { kind: "granted"; holder: Holder }
  | { kind: "held"; retryAfterMs: number }
  | { kind: "conflict"; permits: number };

/** What the semaphore keeps between calls. */
export interface SemaphoreState {
  permits: number;
  /** The token the next new grant receives. */
  nextToken: number;
  holders: Holder[];
}

export class Semaphore {
  permits: number;
  nextToken: number;
  readonly holders = new Map<string, Holder>();
  readonly waiters: Waiter[] = [];

  constructor(state: SemaphoreState) {
    this.permits = state.permits;
    this.nextToken = state.nextToken;
    for (const h of state.holders) this.holders.set(h.owner, h);
  }

  /** True while someone holds or waits, i.e. while the permit count is fixed. */
  get busy(): boolean {
    return this.holders.size > 0 || this.waiters.length > 0;
  }

  /** Removes and returns every grant whose `expiresAt` has been reached. */
  expire(now: number): Holder[] {
    const gone: Holder[] = [];
    for (const h of this.holders.values()) {
      if (h.expiresAt <= now) {
        this.holders.delete(h.owner);
        gone.push(h);
      }
    }
    return gone;
  }

  /**
   * Grants at once when possible. A holder acquiring again gets the same token with a new expiry.
   * Queued waiters go first: a newcomer is granted only when nobody waits.
   */
  acquire(owner: string, ttlMs: number, permits: number, now: number): AcquireDecision {
    const current = this.holders.get(owner);
    if (current) {
      current.expiresAt = now + ttlMs;
      return { kind: "granted", holder: { ...current } };
    }
    if (this.busy && permits !== this.permits) return { kind: "conflict", permits: this.permits };
    if (!this.busy) this.permits = permits;
    if (this.waiters.length === 0 && this.holders.size < this.permits) {
      return { kind: "granted", holder: this.grant(owner, ttlMs, now) };
    }
    return { kind: "held", retryAfterMs: this.retryAfterMs(now) };
  }

  /** Puts a caller at the back of the queue. */
  enqueue(waiter: Waiter): void {
    this.waiters.push(waiter);
  }

  /** Takes a waiter out of the queue (it gave up); true if it was there. */
  dequeue(id: number): boolean {
    const i = this.waiters.findIndex((w) => w.id === id);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    return true;
  }

  /** Hands free permits to waiters, oldest first; returns who got what. */
  grantWaiters(now: number): Array<{ waiter: Waiter; holder: Holder }> {
    const granted: Array<{ waiter: Waiter; holder: Holder }> = [];
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0] as Waiter;
      const current = this.holders.get(waiter.owner);
      if (current) {
        // The owner got a grant another way while it waited: renew that one.
        current.expiresAt = now + waiter.ttlMs;
        granted.push({ waiter, holder: { ...current } });
      } else if (this.holders.size < this.permits) {
        granted.push({ waiter, holder: this.grant(waiter.owner, waiter.ttlMs, now) });
      } else {
        break;
      }
      this.waiters.shift();
    }
    return granted;
  }

  /** Ends a live grant; false when `owner`/`token` is not one. */
  release(owner: string, token: number, now: number): boolean {
    const h = this.live(owner, token, now);
    if (!h) return false;
    this.holders.delete(owner);
    return true;
  }

  /** Moves a live grant's expiry to `now + ttlMs`; undefined when it is not live. */
  extend(owner: string, token: number, ttlMs: number, now: number): Holder | undefined {
    const h = this.live(owner, token, now);
    if (!h) return undefined;
    h.expiresAt = now + ttlMs;
    return { ...h };
  }

  /** The earliest expiry among the grants, when there are any. */
  nextExpiry(): number | undefined {
    let min: number | undefined;
    for (const h of this.holders.values()) if (min === undefined || h.expiresAt < min) min = h.expiresAt;
    return min;
  }

  /** Live grants, oldest token first. */
  list(): Holder[] {
    return [...this.holders.values()].sort((a, b) => a.token - b.token).map((h) => ({ ...h }));
  }

  private live(owner: string, token: number, now: number): Holder | undefined {
    const h = this.holders.get(owner);
    return h && h.token === token && h.expiresAt > now ? h : undefined;
  }

  private grant(owner: string, ttlMs: number, now: number): Holder {
    const holder = { owner, token: this.nextToken++, expiresAt: now + ttlMs };
    this.holders.set(owner, holder);
    return { ...holder };
  }

  /** How long until the earliest grant expires (0 when none is held). */
  retryAfterMs(now: number): number {
    const next = this.nextExpiry();
    return next === undefined ? 0 : Math.max(0, next - now);
  }
}
