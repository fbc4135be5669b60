/**
 * The rows of tasks' progress and log lines. Progress is a column of the task (it stays through
 * retries: nothing that moves a task touches it); log lines are rows of their own, the newest
 * {@link MAX_LOG_LINES_KEPT} per task, each stored as the JSON text of its entry so that task info
 * carries it as is. The task row counts the lines ever appended (`log_count`, whence the number
 * dropped) and the bytes of those kept (`log_bytes`, so that a page's byte budget knows them
 * without reading them). A trigger deletes a task's lines with the task, whatever deletes it.
 */
import { utf8Bytes } from "../../shared/schemas/common.ts";
import { MAX_LOG_LINES_KEPT } from "../../shared/schemas/queue-progress.ts";
import type { Sql } from "../lib/sql.ts";

/** One migration step of the queue's schema (see `QUEUE_SCHEMA`). */
export const PROGRESS_SCHEMA = `ALTER TABLE tasks ADD COLUMN progress TEXT;
   ALTER TABLE tasks ADD COLUMN progress_at INTEGER;
   ALTER TABLE tasks ADD COLUMN log_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tasks ADD COLUMN log_bytes INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE task_logs (
     seq INTEGER NOT NULL,
     n INTEGER NOT NULL,
     entry TEXT NOT NULL,
     PRIMARY KEY (seq, n)
   ) WITHOUT ROWID;
   CREATE TRIGGER task_logs_gone AFTER DELETE ON tasks WHEN old.log_count > 0
   BEGIN DELETE FROM task_logs WHERE seq = old.seq; END;`;

/** A stored entry's share of a page's byte budget: its text and the comma before it. */
const entryBytes = (entry: string) => utf8Bytes(entry) + 1;

export class ProgressStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Replaces a task's progress (JSON text). */
  setProgress(seq: number, progress: string, at: number): void {
    this.sql.run("UPDATE tasks SET progress = ?, progress_at = ? WHERE seq = ?", progress, at, seq);
  }

  /**
   * Appends entries (JSON text each) to a task's log and drops what passes the newest
   * {@link MAX_LOG_LINES_KEPT}: a batch's own older lines are never written. Returns how many
   * lines the task keeps and how many it has dropped in all.
   */
  append(seq: number, entries: readonly string[]): { kept: number; dropped: number } {
    const total =
      this.sql.one<{ log_count: number }>(
        "UPDATE tasks SET log_count = log_count + ? WHERE seq = ? RETURNING log_count",
        entries.length,
        seq,
      )?.log_count ?? entries.length;
    const first = total - entries.length + 1;
    const oldestKept = total - MAX_LOG_LINES_KEPT + 1;
    const written = entries.slice(Math.max(0, oldestKept - first));
    this.sql.run(
      "INSERT INTO task_logs (seq, n, entry) SELECT ?, ? + key, value FROM json_each(?)",
      seq,
      total - written.length + 1,
      JSON.stringify(written),
    );
    const removed = this.sql.all<{ bytes: number }>(
      "DELETE FROM task_logs WHERE seq = ? AND n < ? RETURNING octet_length(entry) + 1 AS bytes",
      seq,
      oldestKept,
    );
    const added = written.reduce((sum, e) => sum + entryBytes(e), 0);
    const freed = removed.reduce((sum, r) => sum + r.bytes, 0);
    this.sql.run("UPDATE tasks SET log_bytes = log_bytes + ? WHERE seq = ?", added - freed, seq);
    const kept = Math.min(total, MAX_LOG_LINES_KEPT);
    return { kept, dropped: total - kept };
  }

  /** The kept entries (JSON text) of the tasks among `seqs`, oldest first, by task. */
  entriesOf(seqs: readonly number[]): Map<number, string[]> {
    const bySeq = new Map<number, string[]>();
    if (seqs.length === 0) return bySeq;
    const rows = this.sql.all<{ seq: number; entry: string }>(
      "SELECT seq, entry FROM task_logs WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq, n",
      JSON.stringify(seqs),
    );
    for (const { seq, entry } of rows) {
      const list = bySeq.get(seq);
      if (list) list.push(entry);
      else bySeq.set(seq, [entry]);
    }
    return bySeq;
  }
}
