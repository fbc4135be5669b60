/**
 * Callers waiting for tasks to end (`GET .../tasks/{id}?waitMs=`): each waits on its task's row
 * number until something may have ended it, until its time is up, or until its caller leaves. The
 * object tells it which tasks an operation touched (a lease that ended, a flow parent that stopped
 * waiting, a deleted queue) as the operation runs, and wakes their waiters only once the
 * operation's transaction has committed: a rolled-back end wakes nobody. A touched task is read
 * once for all its waiters, so a thousand callers on one large task share one answer. A waiter
 * that finds its task not ended (a nack that retries ends a lease, not the task) waits on.
 */
import type { Clock, TimerHandle } from "../../shared/resilience/clock.ts";

/** Waits held at once per queue; past this a wait is refused and the task answered as it stands. */
export const MAX_TASK_WAITS = 1_000;

interface Wait<T> {
  /** The task as read after the commit that touched it; undefined: time is up or the caller left. */
  settle: (read: T | undefined) => void;
  clock: Clock;
  timer: TimerHandle;
  ticket: string | undefined;
}

export class TaskEnds<T> {
  readonly #clock: () => Clock;
  readonly #limit: number;
  /** Row number → the waits on it. */
  readonly #waits = new Map<number, Set<Wait<T>>>();
  /** The waits whose callers may leave, by their ticket. */
  readonly #byTicket = new Map<string, { seq: number; wait: Wait<T> }>();
  #count = 0;
  /** Rows with waiters that the running operation touched. */
  readonly #touched = new Set<number>();

  /** `clock` is read at each wait, so that a test may swap the object's clock. */
  constructor(clock: () => Clock, limit = MAX_TASK_WAITS) {
    this.#clock = clock;
    this.#limit = limit;
  }

  /** How many waits are held. */
  get size(): number {
    return this.#count;
  }

  /**
   * Waits on `seq` for at most `ms`: resolves to the task as read after a commit that touched it,
   * or to undefined when the time is up or {@link leave} was called with `ticket`. Answers
   * undefined at once (no wait) when {@link MAX_TASK_WAITS} are already held.
   */
  wait(seq: number, ms: number, ticket?: string): Promise<T | undefined> | undefined {
    if (this.#count >= this.#limit) return undefined;
    return new Promise((resolve) => {
      const clock = this.#clock();
      const wait: Wait<T> = {
        settle: (read) => {
          if (!this.#drop(seq, wait)) return;
          wait.clock.clearTimer(wait.timer);
          resolve(read);
        },
        clock,
        timer: clock.setTimer(() => wait.settle(undefined), ms),
        ticket,
      };
      const waits = this.#waits.get(seq) ?? new Set<Wait<T>>();
      this.#waits.set(seq, waits.add(wait));
      if (ticket !== undefined) this.#byTicket.set(ticket, { seq, wait });
      this.#count++;
    });
  }

  /** The caller of the wait made with `ticket` has gone: it ends now. Whether it was still waiting. */
  leave(ticket: string): boolean {
    const held = this.#byTicket.get(ticket);
    held?.wait.settle(undefined);
    return held !== undefined;
  }

  /** Inside an operation: `seq` may have ended. Costs a lookup when nobody waits on it. */
  touched(seq: number): void {
    if (this.#waits.has(seq)) this.#touched.add(seq);
  }

  /** Inside an operation: every waited-on task may have ended (the queue is being deleted). */
  touchAll(): void {
    for (const seq of this.#waits.keys()) this.#touched.add(seq);
  }

  /** After the operation's transaction committed: reads each touched task once and wakes its waiters. */
  committed(read: (seq: number) => T): void {
    for (const seq of this.#touched) {
      const waits = this.#waits.get(seq);
      if (!waits) continue;
      const answer = read(seq);
      for (const wait of waits) wait.settle(answer);
    }
    this.#touched.clear();
  }

  /** After the operation's transaction rolled back: what it touched stands as it was. */
  rolledBack(): void {
    this.#touched.clear();
  }

  /** Takes `wait` off the books; false if it already was. */
  #drop(seq: number, wait: Wait<T>): boolean {
    const waits = this.#waits.get(seq);
    if (!waits?.delete(wait)) return false;
    this.#count--;
    if (waits.size === 0) this.#waits.delete(seq);
    if (wait.ticket !== undefined) this.#byTicket.delete(wait.ticket);
    return true;
  }
}
