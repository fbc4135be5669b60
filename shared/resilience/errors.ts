/** The errors policies throw, each carrying what a caller needs to react. */

/** The circuit is open (or its half-open probes are all out): the call was not made. */
export class BrokenCircuitError extends Error {
  override readonly name = "BrokenCircuitError";
  /** `open`, or `half_open` when every probe slot is taken. */
  readonly state: "open" | "half_open";
  /** How long until a call may be let through again. */
  readonly retryAfterMs: number;
  /** When that is, in epoch milliseconds of the breaker's clock. */
  readonly retryAt: number;

  constructor(state: "open" | "half_open", retryAfterMs: number, now: number) {
    super(
      `circuit is ${state === "open" ? "open" : "half-open with every probe in flight"}; retry in ${retryAfterMs} ms`,
    );
    this.state = state;
    this.retryAfterMs = retryAfterMs;
    this.retryAt = now + retryAfterMs;
  }
}

/** The deadline passed before the work finished; the work's signal was aborted with this error. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  /** The deadline that passed, in milliseconds after the start. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** Every execution slot and every queue slot of a bulkhead was taken. */
export class BulkheadRejectedError extends Error {
  override readonly name = "BulkheadRejectedError";
  readonly limit: number;
  readonly queue: number;

  constructor(limit: number, queue: number) {
    super(`bulkhead is full: ${limit} running and ${queue} queued`);
    this.limit = limit;
    this.queue = queue;
  }
}
