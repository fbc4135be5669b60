/** The calls a rate-limited token was allowed, by time; enough to rebuild its sliding window. */
import type { Sql } from "../lib/sql.ts";

export const CALLS_SCHEMA = [
  `CREATE TABLE calls (at INTEGER NOT NULL);
   CREATE INDEX calls_at ON calls (at);`,
] as const;

export class CallStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Records a call at `at` and drops those that left the window (`at <= before`). */
  add(at: number, before: number): void {
    this.sql.run("INSERT INTO calls (at) VALUES (?)", at);
    this.sql.run("DELETE FROM calls WHERE at <= ?", before);
  }

  /** The latest `n` calls, newest first. */
  latest(n: number): number[] {
    return this.sql.all<{ at: number }>("SELECT at FROM calls ORDER BY at DESC LIMIT ?", n).map((r) => r.at);
  }
}
