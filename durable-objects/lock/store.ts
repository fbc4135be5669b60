/** A lock's rows: its counters (permits, the next fencing token, the alarm) and its live grants. */
import type { Sql } from "../lib/sql.ts";
import type { Holder, SemaphoreState } from "../logic/semaphore.ts";

export const LOCK_SCHEMA = [
  `CREATE TABLE lock_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     permits INTEGER NOT NULL,
     next_token INTEGER NOT NULL,
     alarm_at INTEGER
   );
   INSERT INTO lock_meta (id, permits, next_token, alarm_at) VALUES (1, 1, 1, NULL);
   CREATE TABLE lock_holders (
     owner TEXT PRIMARY KEY,
     token INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
] as const;

export class LockStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** The semaphore as stored, and the time the alarm was set for. */
  load(): { semaphore: SemaphoreState; alarmAt: number | null } {
    const meta = this.sql.one<{ permits: number; next_token: number; alarm_at: number | null }>(
      "SELECT permits, next_token, alarm_at FROM lock_meta",
    );
    const holders = this.sql
      .all<{ owner: string; token: number; expires_at: number }>(
        "SELECT owner, token, expires_at FROM lock_holders",
      )
      .map((r) => ({ owner: r.owner, token: r.token, expiresAt: r.expires_at }));
    return {
      semaphore: { permits: meta?.permits ?? 1, nextToken: meta?.next_token ?? 1, holders },
      alarmAt: meta?.alarm_at ?? null,
    };
  }

  saveHolder(h: Holder): void {
    this.sql.run(
      `INSERT INTO lock_holders (owner, token, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at`,
      h.owner,
      h.token,
      h.expiresAt,
    );
  }

  deleteHolder(owner: string): void {
    this.sql.run("DELETE FROM lock_holders WHERE owner = ?", owner);
  }

  saveCounters(permits: number, nextToken: number, alarmAt: number | null): void {
    this.sql.run(
      "UPDATE lock_meta SET permits = ?, next_token = ?, alarm_at = ?",
      permits,
      nextToken,
      alarmAt,
    );
  }
}
