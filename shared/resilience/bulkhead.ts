/**
 * A bulkhead: at most `limit` executions at once, at most `queue` more waiting their turn in
 * order; anything beyond is refused at once with {@link BulkheadRejectedError}.
 */
import { BulkheadRejectedError } from "./errors.ts";
import { abortReason, NEVER_ABORTED, type Policy, type Task } from "./policy.ts";

interface Waiter {
  start: () => void;
}

export class BulkheadPolicy implements Policy {
  readonly limit: number;
  readonly queue: number;
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(limit: number, queue = 0) {
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new RangeError("bulkhead limit must be an integer >= 1");
    if (!(Number.isInteger(queue) && queue >= 0))
      throw new RangeError("bulkhead queue must be an integer >= 0");
    this.limit = limit;
    this.queue = queue;
  }

  /** Free execution slots. */
  get executionSlots(): number {
    return this.limit - this.running;
  }

  /** Free queue slots. */
  get queueSlots(): number {
    return this.queue - this.waiting.length;
  }

  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    if (signal.aborted) throw abortReason(signal);
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.queue) throw new BulkheadRejectedError(this.limit, this.queue);
      // The slot is handed over by the execution that frees it, already counted as running.
      await this.wait(signal);
    } else {
      this.running++;
    }
    try {
      return await fn({ signal });
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }

  /** Waits for a slot, leaving the queue at once if the signal aborts. */
  private wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.waiting.push(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/**
 * A bulkhead of `limit` concurrent executions and `queue` waiting ones.
 * @example const pool = bulkhead(10, 100); await pool.execute(() => db.query(sql));
 */
export function bulkhead(limit: number, queue = 0): BulkheadPolicy {
  return new BulkheadPolicy(limit, queue);
}
