/** What the driver's `POST /run` answers; shared by the driver (Worker) and bench/queue.ts (Node). */
import type { LatencySummary } from "../lib/load.ts";

/** Latencies in ms by the runtime's clock, which has whole milliseconds. */
type CallLatency = LatencySummary;

export interface RunAnswer {
  queue: string;
  total: number;
  batch: number;
  producers: number;
  consumers: number;
  /** From the first enqueue to the last ack, measured inside the Worker. */
  elapsedMs: number;
  /** Every call (enqueue, lease, ack batch) together, then each kind. */
  all: CallLatency;
  enqueue: CallLatency;
  lease: CallLatency;
  ack: CallLatency;
}
