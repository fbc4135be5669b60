/**
 * One object per lock name: grants with fencing tokens, TTL expiry on the alarm, and a FIFO of
 * waiting callers handed a permit the moment one frees. The rules live in {@link Semaphore}, the
 * rows in {@link LockStore}; this class runs each operation as one transaction, keeps the alarm
 * at the earliest expiry and answers waiting callers once their grant has committed.
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import type { TimerHandle } from "../../shared/resilience/clock.ts";
import type {
  AcquireInput,
  ExtendInput,
  LockGrant,
  LockInfo,
  ReleaseInput,
} from "../../shared/schemas/lock.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { type Holder, Semaphore, type Waiter } from "../logic/semaphore.ts";
import { LOCK_SCHEMA, LockStore } from "./store.ts";

interface PendingWaiter extends Waiter {
  resolve: (result: Result<LockGrant>) => void;
  timer: TimerHandle;
  /** The caller's name for this wait, so that it can leave the queue when its client has gone. */
  ticket?: string;
}

export class LockObject extends SqlObject {
  private readonly store: LockStore;
  private readonly alarmTime: ObjectAlarm;
  private semaphore = new Semaphore({ permits: 1, nextToken: 1, holders: [] });
  private nextWaiterId = 1;
  /** Callers waiting for a permit, in arrival order (the semaphore's queue, with their promises). */
  private readonly pending = new Map<number, PendingWaiter>();
  /** Waiter ids by the caller's ticket (see {@link abandon}). */
  private readonly tickets = new Map<string, number>();
  /** Grants made to waiters by the running operation, answered once it has committed. */
  private granted: Array<{ id: number; holder: Holder }> = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, LOCK_SCHEMA);
    this.store = new LockStore(this.sql);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
  }

  /**
   * Grants, renews for the current holder, or queues the caller for up to `waitMs`. A caller that
   * may go away while it waits passes a `ticket` and calls {@link abandon} with it when it does.
   */
  async acquire(input: AcquireInput, ticket?: string): Promise<Result<LockGrant>> {
    await this.ready;
    const now = this.clock.now();
    const decision = this.operation(() => {
      this.settle(now);
      const d = this.semaphore.acquire(input.owner, input.ttlMs, input.permits, now);
      if (d.kind === "granted") this.store.saveHolder(d.holder);
      return d;
    });
    switch (decision.kind) {
      case "granted":
        return ok(this.toGrant(decision.holder));
      case "conflict":
        return fail("conflict", `lock ${this.name} is in use with ${decision.permits} permits`, {
          field: "permits",
          permits: decision.permits,
        });
      case "held":
        if (input.waitMs === 0) return this.held(decision.retryAfterMs);
        return this.wait(input, ticket);
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
    if (pending) pending.resolve(this.held(this.semaphore.retryAfterMs(this.clock.now())));
    return left;
  }

  /** Ends a live grant and hands its permit to the next waiter. */
  async release(input: ReleaseInput): Promise<Result<{ released: true }>> {
    await this.ready;
    const now = this.clock.now();
    return this.operation(() => {
      if (!this.semaphore.release(input.owner, input.token, now)) return this.notHolder();
      this.store.deleteHolder(input.owner);
      this.settle(now);
      return ok({ released: true as const });
    });
  }

  /** Pushes a live grant's expiry to now + `ttlMs`. */
  async extend(input: ExtendInput): Promise<Result<{ expiresAt: number }>> {
    await this.ready;
    const now = this.clock.now();
    return this.operation(() => {
      const holder = this.semaphore.extend(input.owner, input.token, input.ttlMs, now);
      if (!holder) return this.notHolder();
      this.store.saveHolder(holder);
      return ok({ expiresAt: holder.expiresAt });
    });
  }

  /** Who holds the lock and how many wait. */
  async info(): Promise<LockInfo> {
    await this.ready;
    return this.operation(() => {
      this.settle(this.clock.now());
      return {
        name: this.name,
        permits: this.semaphore.permits,
        holders: this.semaphore.list(),
        waiters: this.semaphore.waiters.length,
      };
    });
  }

  /**
   * Expires grants due by the time the alarm was set for, then hands their permits on.
   * Idempotent: a repeated run finds nothing due.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    this.operation(() => this.settle(now));
  }

  /** Reads the grants and counters; callers still waiting keep their place in the queue. */
  protected override load(): void {
    const stored = this.store.load();
    this.semaphore = new Semaphore(stored.semaphore);
    for (const { id, owner, ttlMs } of this.pending.values()) this.semaphore.enqueue({ id, owner, ttlMs });
    this.alarmTime.restore(stored.alarmAt);
  }

  /**
   * Runs `op` as one transaction that ends by storing the counters and aiming the alarm at the
   * earliest expiry; then answers the waiters it granted. If it throws, memory is reloaded.
   */
  private operation<T>(op: () => T): T {
    this.granted = [];
    let out: T;
    try {
      out = this.transaction(() => {
        const result = op();
        this.aimAlarmAndSaveCounters();
        return result;
      });
    } catch (err) {
      this.granted = [];
      throw err;
    }
    for (const { id, holder } of this.granted) {
      const pending = this.pending.get(id);
      if (!pending) continue;
      this.forgetWaiter(id);
      pending.resolve(ok(this.toGrant(holder)));
    }
    this.granted = [];
    return out;
  }

  /**
   * Drops expired grants and serves waiters from the freed permits. Housekeeping's step is bounded
   * by construction here: a lock has at most `permits` (≤ 1,000) grants to expire.
   */
  private settle(now: number): void {
    for (const gone of this.semaphore.expire(now)) this.store.deleteHolder(gone.owner);
    for (const { waiter, holder } of this.semaphore.grantWaiters(now)) {
      this.store.saveHolder(holder);
      this.granted.push({ id: waiter.id, holder });
    }
  }

  private wait(input: AcquireInput, ticket?: string): Promise<Result<LockGrant>> {
    const id = this.nextWaiterId++;
    const waiter = { id, owner: input.owner, ttlMs: input.ttlMs };
    this.semaphore.enqueue(waiter);
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(() => {
        this.forgetWaiter(id);
        // A waiter that gives up leaves the queue.
        if (this.semaphore.dequeue(id)) resolve(this.held(this.semaphore.retryAfterMs(this.clock.now())));
      }, input.waitMs);
      this.pending.set(id, { ...waiter, resolve, timer, ticket });
      if (ticket !== undefined) this.tickets.set(ticket, id);
    });
  }

  /** Drops a waiter's timer and ticket (it was served, gave up or left). */
  private forgetWaiter(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.clock.clearTimer(pending.timer);
    if (pending.ticket !== undefined) this.tickets.delete(pending.ticket);
    this.pending.delete(id);
  }

  private toGrant(h: Holder): LockGrant {
    return { name: this.name, owner: h.owner, token: h.token, expiresAt: h.expiresAt };
  }

  private held(retryAfterMs: number): Result<LockGrant> {
    return fail("lock_held", `lock ${this.name} is held`, { retryAfterMs });
  }

  private notHolder<T>(): Result<T> {
    return fail("not_holder", `owner and token are not a live grant of lock ${this.name}`);
  }

  /** Points the alarm at the earliest expiry (or clears it) and stores it with the counters. */
  private aimAlarmAndSaveCounters(): void {
    this.alarmTime.aim(this.semaphore.nextExpiry() ?? null);
    this.store.saveCounters(this.semaphore.permits, this.semaphore.nextToken, this.alarmTime.at);
  }
}
