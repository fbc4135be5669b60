/**
 * One object per lock name: grants with fencing tokens, TTL expiry on the alarm, and a FIFO of
 * waiting callers handed a permit the moment one frees. The rules live in {@link Semaphore};
 * this class loads and stores its state and keeps the alarm at the earliest expiry.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import type { AcquireInput, ExtendInput, LockGrant, LockInfo, ReleaseInput } from "../shared/schemas/lock.ts";
import { pointAlarm } from "./lib/alarm.ts";
import { migrate, Sql, startUp } from "./lib/sql.ts";
import { type Holder, Semaphore } from "./logic/semaphore.ts";

const SCHEMA = [
  `CREATE TABLE lock_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     permits INTEGER NOT NULL,
     next_token INTEGER NOT NULL,
     alarm_at INTEGER
   );
   INSERT INTO lock_meta (id, permits, next_token, alarm_at) VALUES (1, 1, 1, NULL);
   CREATE TABLE lock_holders (
     owner TEXT PRIMARY KEY,
     token INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
] as const;

interface PendingWaiter {
  name: string;
  resolve: (result: Result<LockGrant>) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The caller's name for this wait, so that it can leave the queue when its client has gone. */
  ticket?: string;
}

const toGrant = (name: string, h: Holder): LockGrant => ({
  name,
  owner: h.owner,
  token: h.token,
  expiresAt: h.expiresAt,
});

export class LockObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly ready: Promise<void>;
  private semaphore = new Semaphore({ permits: 1, nextToken: 1, holders: [] });
  /** When the alarm is set for, as last written; the alarm treats that instant as "now". */
  private alarmAt: number | null = null;
  private nextWaiterId = 1;
  private readonly pending = new Map<number, PendingWaiter>();
  /** Waiter ids by the caller's ticket (see {@link abandon}). */
  private readonly tickets = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.ready = startUp(ctx, () => {
      migrate(this.sql, SCHEMA);
      this.load();
    });
  }

  /**
   * Grants, renews for the current holder, or queues the caller for up to `waitMs`. A caller that
   * may go away while it waits passes a `ticket` and calls {@link abandon} with it when it does.
   */
  async acquire(name: string, input: AcquireInput, ticket?: string): Promise<Result<LockGrant>> {
    await this.ready;
    const now = Date.now();
    this.settle(now);
    const decision = this.semaphore.acquire(input.owner, input.ttlMs, input.permits, now);
    if (decision.kind === "granted") this.saveHolder(decision.holder);
    this.commit();
    switch (decision.kind) {
      case "granted":
        return ok(toGrant(name, decision.holder));
      case "conflict":
        return fail("conflict", `lock ${name} is in use with ${decision.permits} permits`, {
          field: "permits",
          permits: decision.permits,
        });
      case "held":
        if (input.waitMs === 0) return this.held(name, decision.retryAfterMs);
        return this.wait(name, input, ticket);
    }
  }

  /**
   * Takes the waiter with `ticket` out of the queue at once: its client has gone, and a permit
   * handed to it would be held by nobody until its TTL ran out. (The runtime does not cancel a
   * Durable Object call when its caller's request is cancelled, so the Worker says so itself.)
   * Returns whether it was still waiting.
   */
  async abandon(ticket: string): Promise<boolean> {
    await this.ready;
    const id = this.tickets.get(ticket);
    if (id === undefined) return false;
    const pending = this.pending.get(id);
    this.forgetWaiter(id);
    const left = this.semaphore.dequeue(id);
    if (pending) pending.resolve(this.held(pending.name, this.semaphore.retryAfterMs(Date.now())));
    return left;
  }

  /** Ends a live grant and hands its permit to the next waiter. */
  async release(name: string, input: ReleaseInput): Promise<Result<{ released: true }>> {
    await this.ready;
    const now = Date.now();
    if (!this.semaphore.release(input.owner, input.token, now)) return this.notHolder(name);
    this.sql.run("DELETE FROM lock_holders WHERE owner = ?", input.owner);
    this.settle(now);
    this.commit();
    return ok({ released: true });
  }

  /** Pushes a live grant's expiry to now + `ttlMs`. */
  async extend(name: string, input: ExtendInput): Promise<Result<{ expiresAt: number }>> {
    await this.ready;
    const now = Date.now();
    const holder = this.semaphore.extend(input.owner, input.token, input.ttlMs, now);
    if (!holder) return this.notHolder(name);
    this.saveHolder(holder);
    this.commit();
    return ok({ expiresAt: holder.expiresAt });
  }

  /** Who holds the lock and how many wait. */
  async info(name: string): Promise<LockInfo> {
    await this.ready;
    this.settle(Date.now());
    this.commit();
    return {
      name,
      permits: this.semaphore.permits,
      holders: this.semaphore.list(),
      waiters: this.semaphore.waiters.length,
    };
  }

  /**
   * Expires grants due by the time the alarm was set for (not the wall clock: an alarm may run
   * late, never early, and `runDurableObjectAlarm` runs it ahead of time in tests), then hands
   * their permits on. Idempotent: a repeated run finds nothing due.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = Math.max(Date.now(), this.alarmAt ?? 0);
    this.alarmAt = null;
    this.settle(now);
    this.commit();
  }

  private load(): void {
    const meta = this.sql.one<{ permits: number; next_token: number; alarm_at: number | null }>(
      "SELECT permits, next_token, alarm_at FROM lock_meta",
    );
    const holders = this.sql
      .all<{ owner: string; token: number; expires_at: number }>(
        "SELECT owner, token, expires_at FROM lock_holders",
      )
      .map((r) => ({ owner: r.owner, token: r.token, expiresAt: r.expires_at }));
    this.semaphore = new Semaphore({
      permits: meta?.permits ?? 1,
      nextToken: meta?.next_token ?? 1,
      holders,
    });
    this.alarmAt = meta?.alarm_at ?? null;
  }

  /**
   * Drops expired grants and serves waiters from the freed permits. Housekeeping's step is bounded
   * by construction here: a lock has at most `permits` (≤ 1,000) grants to expire.
   */
  private settle(now: number): void {
    for (const gone of this.semaphore.expire(now)) {
      this.sql.run("DELETE FROM lock_holders WHERE owner = ?", gone.owner);
    }
    for (const { waiter, holder } of this.semaphore.grantWaiters(now)) {
      this.saveHolder(holder);
      const pending = this.pending.get(waiter.id);
      if (!pending) continue;
      this.forgetWaiter(waiter.id);
      pending.resolve(ok(toGrant(pending.name, holder)));
    }
  }

  private wait(name: string, input: AcquireInput, ticket?: string): Promise<Result<LockGrant>> {
    const id = this.nextWaiterId++;
    this.semaphore.enqueue({ id, owner: input.owner, ttlMs: input.ttlMs });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.forgetWaiter(id);
        // A waiter that gives up leaves the queue.
        if (this.semaphore.dequeue(id)) resolve(this.held(name, this.semaphore.retryAfterMs(Date.now())));
      }, input.waitMs);
      this.pending.set(id, { name, resolve, timer, ticket });
      if (ticket !== undefined) this.tickets.set(ticket, id);
    });
  }

  /** Drops a waiter's timer and ticket (it was served, gave up or left). */
  private forgetWaiter(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    if (pending.ticket !== undefined) this.tickets.delete(pending.ticket);
    this.pending.delete(id);
  }

  private held(name: string, retryAfterMs: number): Result<LockGrant> {
    return fail("lock_held", `lock ${name} is held`, { retryAfterMs });
  }

  private notHolder<T>(name: string): Result<T> {
    return fail("not_holder", `owner and token are not a live grant of lock ${name}`);
  }

  private saveHolder(h: Holder): void {
    this.sql.run(
      `INSERT INTO lock_holders (owner, token, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
      h.owner,
      h.token,
      h.expiresAt,
    );
  }

  /** Writes the counters and points the alarm at the earliest expiry (or clears it). */
  private commit(): void {
    this.alarmAt = pointAlarm(this.ctx.storage, this.alarmAt, this.semaphore.nextExpiry() ?? null);
    this.sql.run(
      "UPDATE lock_meta SET permits = ?, next_token = ?, alarm_at = ?",
      this.semaphore.permits,
      this.semaphore.nextToken,
      this.alarmAt,
    );
  }
}
