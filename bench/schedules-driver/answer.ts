/** What the driver's `POST /run` answers; shared by the driver (Worker) and bench/schedules.ts (Node). */

/** One alarm ring of the metered queue object. */
export interface RingCost {
  /** The ring's round trip from the driver Worker (the runtime's clock, whole milliseconds). */
  ms: number;
  /** Rows SQLite read and wrote during the ring (the cursors' counts), and statements run. */
  rowsRead: number;
  rowsWritten: number;
  statements: number;
  /** Tasks in the queue after the ring: `due` more each ring. */
  tasks: number;
}

export interface RunAnswer {
  schedules: number;
  due: number;
  /** How long creating the schedules took (ms, the runtime's clock). */
  seedMs: number;
  rings: RingCost[];
}
