/**
 * How tasks leave the queue object: their JSON text, built around the stored payload and result
 * text without parsing them, and the cursors of task lists.
 */
import { asJsonText, type JsonText, rawArray, withRawMembers } from "../../shared/json-text.ts";
import type { LeasedTask, TaskInfo, TaskPage } from "../../shared/schemas/queue.ts";
import { priorityOf, type TaskState } from "../logic/queue-rules.ts";
import type { LeasedRow, ListKey, TaskRow } from "./task-store.ts";

/** A task a lease handed out: what a caller tracks, and its JSON text for the answer. */
export interface LeasedText {
  id: string;
  leaseId: string;
  leaseExpiresAt: number;
  /** The task as a lease answers it (a {@link LeasedTask}), around the stored payload text. */
  text: string;
}

/**
 * The JSON text of a task as `GET .../tasks/{id}` answers it; `logs` are its kept log entries
 * (JSON text each, oldest first).
 */
export function infoText(row: TaskRow, logs: readonly string[]): string {
  const fields: Omit<TaskInfo, "payload" | "result" | "progress" | "logs"> = {
    id: String(row.seq),
    state: row.state,
    priority: priorityOf(row.priority),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    enqueuedAt: row.enqueued_at,
  };
  if (row.dedup_key !== null) fields.dedupKey = row.dedup_key;
  if (row.last_error !== null) fields.lastError = row.last_error;
  if (row.progress_at !== null) fields.progressAt = row.progress_at;
  const dropped = row.log_count - logs.length;
  if (dropped > 0) fields.logsDropped = dropped;
  return withRawMembers(fields, {
    payload: row.payload,
    result: row.result,
    progress: row.progress,
    logs: logs.length > 0 ? rawArray(logs) : null,
    childResults: row.child_results,
  });
}

/** A freshly leased row as a lease answers it. */
export function leasedText(row: LeasedRow, leaseExpiresAt: number): LeasedText {
  const fields: Omit<LeasedTask, "payload"> = {
    id: String(row.seq),
    priority: priorityOf(row.priority),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    leaseId: row.lease_id as string,
    leaseExpiresAt,
    enqueuedAt: row.enqueued_at,
  };
  const text = withRawMembers(fields, { payload: row.payload, childResults: row.child_results });
  return { id: fields.id, leaseId: fields.leaseId, leaseExpiresAt, text };
}

/** The answer of a lease: `{"tasks": [...]}`. */
export const leaseAnswer = (tasks: readonly LeasedText[]): JsonText<{ tasks: LeasedTask[] }> =>
  asJsonText(`{"tasks":${rawArray(tasks.map((t) => t.text))}}`);

/** A page of tasks: `{"tasks": [...], "cursor"}`, each with its kept log entries from `logs`. */
export const pageAnswer = (
  rows: readonly TaskRow[],
  cursor: string | null,
  logs: ReadonlyMap<number, readonly string[]>,
): JsonText<TaskPage> =>
  asJsonText(
    `{"tasks":${rawArray(rows.map((row) => infoText(row, logs.get(row.seq) ?? [])))},"cursor":${JSON.stringify(cursor)}}`,
  );

const SEQ = /^[1-9][0-9]{0,15}$/;
const READY_CURSOR = /^([0-3])\.([0-9]{1,16})\.([1-9][0-9]{0,15})$/;

/** The position before the first task of any list. */
const START: ListKey = { rank: 4, availableAt: 0, seq: 0 };

/**
 * Where a list resumes: after the task a cursor names. A `ready` cursor is the lease key
 * `rank.availableAt.seq` (the list is in lease order); the others are the seq. Absent or empty
 * means the start; anything else this state's lists never give out is undefined.
 */
export function parseCursor(state: TaskState, cursor: string | undefined): ListKey | undefined {
  if (cursor === undefined || cursor === "") return START;
  if (state !== "ready") return SEQ.test(cursor) ? { ...START, seq: Number(cursor) } : undefined;
  const m = READY_CURSOR.exec(cursor);
  return m ? { rank: Number(m[1]), availableAt: Number(m[2]), seq: Number(m[3]) } : undefined;
}

/** The cursor that resumes a list of `state` after `row`. */
export function cursorAfter(state: TaskState, row: TaskRow): string {
  return state === "ready" ? `${row.priority}.${row.available_at}.${row.seq}` : String(row.seq);
}
