/**
 * The rows of one queue: every statement the queue object runs, each served by an index so that
 * its cost depends on the rows it touches, not on how many tasks the queue holds.
 */

import { z } from "@hono/zod-openapi";
import { QueueStats } from "../../shared/schemas/queue.ts";
import type { Sql } from "../lib/sql.ts";
import { type CounterSnapshot, emptySnapshot } from "../logic/queue-counters.ts";
import type { DueTimes, TaskState } from "../logic/queue-rules.ts";
import { FLOWS_SCHEMA } from "./flow-store.ts";
import { LIMITS_SCHEMA } from "./limits.ts";
import { PROGRESS_SCHEMA } from "./progress-store.ts";
import { SCHEDULES_SCHEMA } from "./schedule-store.ts";

/**
 * Partial indexes, one per access path: the ready index is the lease order itself, so a lease
 * reads the first `max` entries; the others serve the alarm's due times, retention, the dead-letter
 * pages and the dedup check. A row sits only in the index of its state.
 */
export const QUEUE_SCHEMA = [
  `CREATE TABLE tasks (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     state TEXT NOT NULL,
     priority INTEGER NOT NULL,
     payload TEXT NOT NULL,
     attempt INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL,
     enqueued_at INTEGER NOT NULL,
     available_at INTEGER NOT NULL,
     lease_id TEXT,
     lease_expires_at INTEGER,
     dedup_key TEXT,
     last_error TEXT,
     result TEXT,
     finished_at INTEGER
   );
   CREATE INDEX tasks_ready ON tasks (priority DESC, available_at, seq) WHERE state = 'ready';
   CREATE INDEX tasks_delayed ON tasks (available_at) WHERE state = 'delayed';
   CREATE INDEX tasks_leased ON tasks (lease_expires_at) WHERE state = 'leased';
   CREATE INDEX tasks_completed ON tasks (finished_at) WHERE state = 'completed';
   CREATE INDEX tasks_dead_finished ON tasks (finished_at) WHERE state = 'dead';
   CREATE INDEX tasks_dead ON tasks (seq) WHERE state = 'dead';
   CREATE UNIQUE INDEX tasks_dedup ON tasks (dedup_key)
     WHERE dedup_key IS NOT NULL AND state IN ('ready', 'delayed', 'leased');
   CREATE TABLE queue_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     counters TEXT NOT NULL,
     alarm_at INTEGER
   );
   INSERT INTO queue_meta (id, counters, alarm_at) VALUES (1, '${JSON.stringify(emptySnapshot())}', NULL);`,
  // Pause and resume (streaming consumers, operator controls).
  "ALTER TABLE queue_meta ADD COLUMN paused INTEGER NOT NULL DEFAULT 0",
  // Schedules (see schedule-store.ts).
  SCHEDULES_SCHEMA,
  // Lease limits (see limits.ts).
  LIMITS_SCHEMA,
  // Progress and log lines (see progress-store.ts).
  PROGRESS_SCHEMA,
  // Flows: the waiting state, children's results, links and the outbox (see flow-store.ts).
  FLOWS_SCHEMA,
] as const;

/** A stored task as SQLite returns it. */
export interface TaskRow extends Record<string, SqlStorageValue> {
  seq: number;
  state: TaskState;
  priority: number;
  payload: string;
  attempt: number;
  max_attempts: number;
  enqueued_at: number;
  available_at: number;
  lease_id: string | null;
  lease_expires_at: number | null;
  dedup_key: string | null;
  last_error: string | null;
  result: string | null;
  finished_at: number | null;
  /** The last progress reported, as JSON text (see progress-store.ts). */
  progress: string | null;
  progress_at: number | null;
  /** Log lines ever appended; the newest 100 are kept. */
  log_count: number;
  /** Bytes of the kept log entries, for the page budget. */
  log_bytes: number;
  /** A flow parent's children's results (JSON text), from when it became ready. */
  child_results: string | null;
}

/** What a lease hands out. */
export type LeasedRow = Pick<
  TaskRow,
  | "seq"
  | "priority"
  | "payload"
  | "attempt"
  | "max_attempts"
  | "enqueued_at"
  | "available_at"
  | "lease_id"
  | "child_results"
>;

/** What ack, nack and extend check. */
export type LeaseRow = Pick<
  TaskRow,
  "seq" | "state" | "priority" | "attempt" | "max_attempts" | "lease_id" | "lease_expires_at"
>;

/** What a new row needs. */
export interface NewTask {
  state: "ready" | "delayed" | "waiting";
  priority: number;
  payload: string;
  maxAttempts: number;
  enqueuedAt: number;
  availableAt: number;
  dedupKey: string | null;
}

/** What a redrive needs of a dead task. */
export type RedriveRow = Pick<TaskRow, "seq" | "state" | "priority" | "dedup_key">;

/**
 * Where a task list stands: `ready` lists go in lease order, so their position is the lease key;
 * the other states go in enqueue order, by seq alone (`rank` and `availableAt` unused).
 */
export interface ListKey {
  rank: number;
  availableAt: number;
  seq: number;
}

/** The order of each state's list: `ready` in lease order, the others oldest enqueued first. */
export const LIST_ORDER: Readonly<Record<TaskState, string>> = {
  ready: "priority DESC, available_at, seq",
  delayed: "seq",
  leased: "seq",
  completed: "seq",
  dead: "seq",
  waiting: "seq",
};

/**
 * Where each list reads its seqs. `ready` and `dead` have an index in list order. `delayed` and
 * `leased` (usually few) sort their seqs from their own index, so the work follows the size of the
 * state, not of the table; `completed` (usually most rows) walks the table in seq order instead,
 * which stops after a page. No list has a seq index of its own: that would cost every lease and
 * ack one more index write.
 */
const LIST_SOURCE: Readonly<Record<TaskState, string>> = {
  ready: "tasks",
  delayed: "tasks INDEXED BY tasks_delayed",
  leased: "tasks INDEXED BY tasks_leased",
  completed: "tasks",
  dead: "tasks",
  waiting: "tasks INDEXED BY tasks_waiting",
};

type PriorityRow = { priority: number };

/** The counters as `queue_meta` stores them, checked when read back: the counts and totals of `stats`. */
const StoredCounters: z.ZodType<CounterSnapshot> = z.object({
  counts: QueueStats.pick({ ready: true, delayed: true, leased: true, completed: true, dead: true }).extend({
    // Counters stored before flows have no `waiting`.
    waiting: z.number().int().default(0),
  }),
  totals: QueueStats.shape.totals,
});

/** The oldest head among the four priorities' runs in the ready index (aggregate min skips NULLs). */
const OLDEST_READY = `SELECT min(head) AS oldest FROM (${[0, 1, 2, 3]
  .map(
    (rank) =>
      `SELECT (SELECT available_at FROM tasks WHERE state = 'ready' AND priority = ${rank} ORDER BY available_at, seq LIMIT 1) AS head`,
  )
  .join(" UNION ALL ")})`;

export class TaskStore {
  protected readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** The stored counters and the instant the alarm was last set for. */
  loadMeta(): { counters: CounterSnapshot; alarmAt: number | null } {
    const row = this.sql.one<{ counters: string; alarm_at: number | null }>(
      "SELECT counters, alarm_at FROM queue_meta WHERE id = 1",
    );
    if (!row) throw new Error("queue_meta has no row: the schema was not set up");
    return { counters: StoredCounters.parse(JSON.parse(row.counters)), alarmAt: row.alarm_at };
  }

  saveCounters(counters: CounterSnapshot): void {
    this.sql.run("UPDATE queue_meta SET counters = ? WHERE id = 1", JSON.stringify(counters));
  }

  saveAlarmAt(alarmAt: number | null): void {
    this.sql.run("UPDATE queue_meta SET alarm_at = ? WHERE id = 1", alarmAt);
  }

  insert(t: NewTask): number {
    return this.insertMany([t])[0] as number;
  }

  /**
   * Inserts `tasks` in one statement (a statement costs far more than a row); returns their seqs
   * in the order of `tasks`. The rows travel as one JSON array, so the bound-parameter limit does
   * not cap the batch.
   */
  insertMany(tasks: readonly NewTask[]): number[] {
    const rows = tasks.map((t) => [
      t.state,
      t.priority,
      t.payload,
      t.maxAttempts,
      t.enqueuedAt,
      t.availableAt,
      t.dedupKey,
    ]);
    // `ORDER BY key` inserts in array order, so ascending seqs line up with `tasks`.
    const inserted = this.sql.all<{ seq: number }>(
      `INSERT INTO tasks (state, priority, payload, max_attempts, enqueued_at, available_at, dedup_key)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
       FROM json_each(?) ORDER BY key
       RETURNING seq`,
      JSON.stringify(rows),
    );
    return inserted.map((r) => r.seq).sort((a, b) => a - b);
  }

  /** The live task holding a dedup key. */
  liveWithKey(dedupKey: string): number | undefined {
    return this.sql.one<{ seq: number }>(
      `SELECT seq FROM tasks WHERE dedup_key = ? AND state IN ('ready', 'delayed', 'leased', 'waiting')`,
      dedupKey,
    )?.seq;
  }

  get(seq: number): TaskRow | undefined {
    return this.sql.one<TaskRow>("SELECT * FROM tasks WHERE seq = ?", seq);
  }

  /**
   * Leases the first `limit` ready tasks in one statement, straight off the ready index, stopping
   * before the task whose payload (with a flow parent's children's results) would take the total
   * past `budget` bytes (the first is always taken). Only payload lengths are read to choose (`octet_length` reads no overflow pages); the
   * payloads of the chosen rows alone come back. Lease ids are `leasePrefix` (random per call) and
   * the task's seq. Rows come back in no set order.
   */
  leaseNext(limit: number, budget: number, leasePrefix: string, leaseExpiresAt: number): LeasedRow[] {
    return this.sql.all<LeasedRow>(
      `UPDATE tasks SET state = 'leased', attempt = attempt + 1, lease_id = ? || '.' || seq,
         lease_expires_at = ?
       WHERE seq IN (
         SELECT seq FROM (
           SELECT seq, row_number() OVER w AS n, sum(bytes) OVER w AS upto FROM (
             SELECT seq, priority, available_at,
               octet_length(payload) + coalesce(octet_length(child_results), 0) AS bytes FROM tasks
             WHERE state = 'ready' ORDER BY priority DESC, available_at, seq LIMIT ?
           ) WINDOW w AS (ORDER BY priority DESC, available_at, seq ROWS UNBOUNDED PRECEDING)
         ) WHERE n = 1 OR upto <= ?
       )
       RETURNING seq, priority, payload, attempt, max_attempts, enqueued_at, available_at, lease_id,
         child_results`,
      leasePrefix,
      leaseExpiresAt,
      limit,
      budget,
    );
  }

  /** A task's lease and attempts, without the payload. */
  leaseOf(seq: number): LeaseRow | undefined {
    return this.leasesOf([seq])[0];
  }

  /** The leases and attempts of the tasks among `seqs` that exist, in one statement. */
  leasesOf(seqs: readonly number[]): LeaseRow[] {
    return this.sql.all<LeaseRow>(
      `SELECT seq, state, priority, attempt, max_attempts, lease_id, lease_expires_at FROM tasks
       WHERE seq IN (SELECT value FROM json_each(?))`,
      JSON.stringify(seqs),
    );
  }

  extendLease(seq: number, leaseExpiresAt: number): void {
    this.sql.run("UPDATE tasks SET lease_expires_at = ? WHERE seq = ?", leaseExpiresAt, seq);
  }

  /**
   * Completes each task (distinct seqs) still leased under its `leaseId` at `now` with its result
   * (JSON text or null), in one statement; returns the ones it completed. The completed row keeps
   * `lease_id`: the lease that completed it, so that a retried ack of that lease is answered again.
   */
  completeHeld(
    acks: ReadonlyArray<{ seq: number; leaseId: string; result: string | null }>,
    now: number,
  ): Array<{ seq: number; priority: number }> {
    return this.sql.all<{ seq: number; priority: number }>(
      `UPDATE tasks SET state = 'completed', result = done.value ->> 2, finished_at = ?,
         lease_expires_at = NULL
       FROM json_each(?) AS done
       WHERE tasks.seq = done.value ->> 0 AND tasks.state = 'leased' AND tasks.lease_id = done.value ->> 1
         AND tasks.lease_expires_at > ?
       RETURNING seq, priority`,
      now,
      JSON.stringify(acks.map((a) => [a.seq, a.leaseId, a.result])),
      now,
    );
  }

  /** Back to `ready` or `delayed` from a lease, keeping the attempt count. */
  requeue(seq: number, state: "ready" | "delayed", availableAt: number, lastError: string | null): void {
    this.sql.run(
      `UPDATE tasks SET state = ?, available_at = ?, last_error = COALESCE(?, last_error), lease_id = NULL,
         lease_expires_at = NULL
       WHERE seq = ?`,
      state,
      availableAt,
      lastError,
      seq,
    );
  }

  bury(seq: number, lastError: string | null, now: number): void {
    this.sql.run(
      `UPDATE tasks SET state = 'dead', finished_at = ?, last_error = COALESCE(?, last_error),
         lease_id = NULL, lease_expires_at = NULL
       WHERE seq = ?`,
      now,
      lastError,
      seq,
    );
  }

  /** Deletes one task (its logs go with it, by trigger). */
  delete(seq: number): void {
    this.sql.run("DELETE FROM tasks WHERE seq = ?", seq);
  }

  /** Makes one delayed task ready from `now` on (an operator's promote). */
  promote(seq: number, now: number): void {
    this.sql.run(
      "UPDATE tasks SET state = 'ready', available_at = ? WHERE seq = ? AND state = 'delayed'",
      now,
      seq,
    );
  }

  /** Makes up to `limit` delayed tasks due by `now` ready; returns their priorities. */
  promoteDue(now: number, limit: number): PriorityRow[] {
    return this.sql.all<PriorityRow>(
      `UPDATE tasks SET state = 'ready' WHERE seq IN (
         SELECT seq FROM tasks WHERE state = 'delayed' AND available_at <= ? ORDER BY available_at LIMIT ?
       ) RETURNING priority`,
      now,
      limit,
    );
  }

  /** Up to `limit` leases expired by `now`, earliest first (without their payloads). */
  expiredLeases(now: number, limit: number): LeaseRow[] {
    return this.sql.all<LeaseRow>(
      `SELECT seq, state, priority, attempt, max_attempts, lease_id, lease_expires_at FROM tasks WHERE state = 'leased' AND lease_expires_at <= ?
       ORDER BY lease_expires_at LIMIT ?`,
      now,
      limit,
    );
  }

  /** Deletes up to `limit` tasks in `state` finished at or before `before`; returns their priorities. */
  deleteFinished(state: "completed" | "dead", before: number, limit: number): PriorityRow[] {
    // The state is spelled out, not bound: SQLite matches a partial index only against literals.
    return this.sql.all<PriorityRow>(
      `DELETE FROM tasks WHERE seq IN (
         SELECT seq FROM tasks WHERE state = '${state === "dead" ? "dead" : "completed"}' AND finished_at <= ?
         ORDER BY finished_at LIMIT ?
       ) RETURNING priority`,
      before,
      limit,
    );
  }

  /** The tasks among `seqs` that exist, with only what a redrive needs (no payloads). */
  redriveRows(seqs: readonly number[]): RedriveRow[] {
    return this.sql.all<RedriveRow>(
      `SELECT seq, state, priority, dedup_key FROM tasks WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      JSON.stringify(seqs),
    );
  }

  /** Dead tasks after `afterSeq`, oldest first, without what a redrive does not need. */
  deadPage(afterSeq: number, limit: number): RedriveRow[] {
    return this.sql.all<RedriveRow>(
      "SELECT seq, state, priority, dedup_key FROM tasks WHERE state = 'dead' AND seq > ? ORDER BY seq LIMIT ?",
      afterSeq,
      limit,
    );
  }

  /**
   * A page of the tasks in `state` after `after`, in {@link LIST_ORDER}: at most `limit` rows, and
   * no more than fit in `budget` bytes of payload, result, last error, progress, kept log
   * lines and children's results (the first row always).
   * The rows are chosen by their stored lengths first, so only the returned ones are read whole.
   * Each row carries `seen`: how many rows (at most `limit + 1`) were candidates, so that fewer
   * returned than seen means the list goes on.
   */
  listPage(
    state: TaskState,
    after: ListKey,
    limit: number,
    budget: number,
  ): Array<TaskRow & { seen: number }> {
    const order = LIST_ORDER[state];
    // The state is spelled out, not bound: SQLite matches a partial index only against literals.
    const where =
      state === "ready"
        ? "state = 'ready' AND priority <= ? AND (priority < ? OR available_at > ? OR (available_at = ? AND seq > ?))"
        : `state = '${state}' AND seq > ?`;
    const bindings =
      state === "ready"
        ? [after.rank, after.rank, after.availableAt, after.availableAt, after.seq]
        : [after.seq];
    return this.sql.all<TaskRow & { seen: number }>(
      `WITH page AS (
         SELECT seq FROM ${LIST_SOURCE[state]} WHERE ${where} ORDER BY ${order} LIMIT ?
       ), sized AS (
         SELECT seq, row_number() OVER w AS n, count(*) OVER () AS seen,
           sum(octet_length(payload) + coalesce(octet_length(result), 0) + coalesce(octet_length(last_error), 0)
             + coalesce(octet_length(progress), 0) + log_bytes + coalesce(octet_length(child_results), 0))
             OVER w AS upto
         FROM page JOIN tasks USING (seq)
         WINDOW w AS (ORDER BY ${order} ROWS UNBOUNDED PRECEDING)
       )
       SELECT tasks.*, sized.seen FROM sized JOIN tasks USING (seq)
       WHERE sized.n <= ? AND (sized.n = 1 OR sized.upto <= ?) ORDER BY sized.n`,
      ...bindings,
      limit + 1,
      limit,
      budget,
    );
  }

  /** Back from the dead: ready now with the attempts reset; `keepKey` false drops a taken dedup key. */
  redrive(seq: number, now: number, keepKey: boolean): void {
    this.sql.run(
      `UPDATE tasks SET state = 'ready', attempt = 0, available_at = ?, finished_at = NULL,
         dedup_key = CASE WHEN ? THEN dedup_key ELSE NULL END
       WHERE seq = ?`,
      now,
      keepKey ? 1 : 0,
      seq,
    );
  }

  /** The earliest lease expiry, delay end and completion: one index seek each, in one statement. */
  dueTimes(): DueTimes {
    const row = this.sql.one<{ lease: number | null; delayed: number | null; completed: number | null }>(
      `SELECT
         (SELECT lease_expires_at FROM tasks WHERE state = 'leased' ORDER BY lease_expires_at LIMIT 1) AS lease,
         (SELECT available_at FROM tasks WHERE state = 'delayed' ORDER BY available_at LIMIT 1) AS delayed,
         (SELECT finished_at FROM tasks WHERE state = 'completed' ORDER BY finished_at LIMIT 1) AS completed`,
    );
    return {
      leaseExpiry: row?.lease ?? undefined,
      delayedDue: row?.delayed ?? undefined,
      oldestCompletedAt: row?.completed ?? undefined,
    };
  }

  /**
   * When the longest-ready task became ready: the head of each priority in the ready index, one
   * seek each, in one statement.
   */
  oldestReadySince(): number | undefined {
    return this.sql.one<{ oldest: number | null }>(OLDEST_READY)?.oldest ?? undefined;
  }
}
