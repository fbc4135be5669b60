/**
 * The rows of a queue's schedules. The alarm reads only the schedules due (an index on the next
 * run time, without the paused ones, whose next run is null), so its cost per run does not grow
 * with the number of schedules.
 */
import type { Sql } from "../lib/sql.ts";

/** The schedules table: one migration step of the queue's schema (see `QUEUE_SCHEMA`). */
export const SCHEDULES_SCHEMA = `CREATE TABLE schedules (
     name TEXT PRIMARY KEY,
     cron TEXT,
     timezone TEXT,
     every_ms INTEGER,
     anchor INTEGER NOT NULL,
     payload TEXT NOT NULL,
     priority INTEGER NOT NULL,
     max_attempts INTEGER NOT NULL,
     missed TEXT NOT NULL,
     paused INTEGER NOT NULL DEFAULT 0,
     next_run_at INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_run_at INTEGER,
     last_task_id TEXT,
     runs INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;`;

/** A stored schedule as SQLite returns it. */
export interface ScheduleRow extends Record<string, SqlStorageValue> {
  name: string;
  cron: string | null;
  timezone: string | null;
  every_ms: number | null;
  /** When the schedule was (re)defined: an interval counts from here. */
  anchor: number;
  payload: string;
  priority: number;
  max_attempts: number;
  missed: string;
  paused: number;
  /** Null while paused, or when the schedule has no run left. */
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
  last_run_at: number | null;
  last_task_id: string | null;
  runs: number;
}

export class ScheduleStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  get(name: string): ScheduleRow | undefined {
    return this.sql.one<ScheduleRow>("SELECT * FROM schedules WHERE name = ?", name);
  }

  /** Writes a whole schedule, replacing the one of that name. */
  put(row: ScheduleRow): void {
    const columns = Object.keys(row);
    this.sql.run(
      `INSERT OR REPLACE INTO schedules (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      ...Object.values(row),
    );
  }

  delete(name: string): boolean {
    return this.sql.count("DELETE FROM schedules WHERE name = ?", name) > 0;
  }

  deleteAll(): void {
    this.sql.run("DELETE FROM schedules");
  }

  /** Up to `limit` schedules due by `now`, earliest first. */
  due(now: number, limit: number): ScheduleRow[] {
    return this.sql.all<ScheduleRow>(
      "SELECT * FROM schedules WHERE next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at LIMIT ?",
      now,
      limit,
    );
  }

  /** The earliest next run of any schedule, one index seek. */
  earliest(): number | null {
    return (
      this.sql.one<{ at: number }>(
        "SELECT next_run_at AS at FROM schedules WHERE next_run_at IS NOT NULL ORDER BY next_run_at LIMIT 1",
      )?.at ?? null
    );
  }

  /** Moves a schedule on to `next`; with `ran`, records the run that enqueued a task. */
  advance(name: string, next: number | null, ran?: { at: number; taskId: string }): void {
    if (ran === undefined) {
      this.sql.run("UPDATE schedules SET next_run_at = ? WHERE name = ?", next, name);
      return;
    }
    this.sql.run(
      `UPDATE schedules SET next_run_at = ?, last_run_at = ?, last_task_id = ?, runs = runs + 1
       WHERE name = ?`,
      next,
      ran.at,
      ran.taskId,
      name,
    );
  }

  setPaused(name: string, paused: boolean, next: number | null, now: number): void {
    this.sql.run(
      "UPDATE schedules SET paused = ?, next_run_at = ?, updated_at = ? WHERE name = ?",
      paused ? 1 : 0,
      next,
      now,
      name,
    );
  }

  /**
   * A page of schedules after `after` in name order: at most `limit`, and no more than fit in
   * `budget` bytes of payload (the first always). Sizes are read first, whole rows only for the
   * page. `more` says whether the list goes on.
   */
  page(after: string, limit: number, budget: number): { rows: ScheduleRow[]; more: boolean } {
    const sizes = this.sql.all<{ name: string; bytes: number }>(
      "SELECT name, octet_length(payload) AS bytes FROM schedules WHERE name > ? ORDER BY name LIMIT ?",
      after,
      limit + 1,
    );
    const chosen: string[] = [];
    let total = 0;
    for (const { name, bytes } of sizes.slice(0, limit)) {
      if (chosen.length > 0 && total + bytes > budget) break;
      chosen.push(name);
      total += bytes;
    }
    const rows = this.sql.all<ScheduleRow>(
      "SELECT * FROM schedules WHERE name IN (SELECT value FROM json_each(?)) ORDER BY name",
      JSON.stringify(chosen),
    );
    return { rows, more: chosen.length < sizes.length };
  }
}
