/**
 * Callers waiting for tasks to end (`GET .../tasks/{id}?waitMs=`): each waits on its task's row
 * number until something may have ended it, or until its time is up. The object tells it which
 * tasks an operation touched (a lease that ended, a flow parent that stopped waiting) as the
 * operation runs, and wakes their waiters only once the operation's transaction has committed: a
 * rolled-back end wakes nobody. A woken waiter reads its task again and may wait on (a nack that
 * retries ends a lease, not the task), so a spurious wake costs one read, never a wrong answer.
 */
import type { Clock, TimerHandle } from "../../shared/resilience/clock.ts";

/** Waits held at once per queue; past this a wait is refused and the task answered as it stands. */
export const MAX_TASK_WAITS = 1_000;

interface Wait {
  wake: () => void;
  timer: TimerHandle;
}

export class TaskEnds {
  readonly #clock: () => Clock;
  readonly #limit: number;
  /** Row number → the waits on it. */
  readonly #waits = new Map<number, Set<Wait>>();
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
   * Resolves when `seq` may have ended or after `ms`, whichever comes first; undefined (no wait)
   * when {@link MAX_TASK_WAITS} are already held.
   */
  wait(seq: number, ms: number): Promise<void> | undefined {
    if (this.#count >= this.#limit) return undefined;
    return new Promise((resolve) => {
      const waits = this.#waits.get(seq) ?? new Set<Wait>();
      this.#waits.set(seq, waits);
      const wait: Wait = {
        wake: () => {
          this.#clock().clearTimer(wait.timer);
          this.#drop(seq, wait);
          resolve();
        },
        timer: this.#clock().setTimer(() => wait.wake(), ms),
      };
      waits.add(wait);
      this.#count++;
    });
  }

  /** Inside an operation: `seq` may have ended. Costs a lookup when nobody waits on it. */
  touched(seq: number): void {
    if (this.#waits.has(seq)) this.#touched.add(seq);
  }

  /** After the operation's transaction committed: wakes the waiters of what it touched. */
  committed(): void {
    for (const seq of this.#touched) for (const wait of this.#waits.get(seq) ?? []) wait.wake();
    this.#touched.clear();
  }

  /** After the operation's transaction rolled back: what it touched stands as it was. */
  rolledBack(): void {
    this.#touched.clear();
  }

  /** Wakes every waiter (the queue was deleted). */
  wakeAll(): void {
    for (const waits of [...this.#waits.values()]) for (const wait of waits) wait.wake();
    this.#touched.clear();
  }

  #drop(seq: number, wait: Wait): void {
    const waits = this.#waits.get(seq);
    if (!waits?.delete(wait)) return;
    this.#count--;
    if (waits.size === 0) this.#waits.delete(seq);
  }
}
