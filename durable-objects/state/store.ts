/**
 * The rows of one state namespace: its counters (version, alarm, change-log bounds), its keys and
 * its change log. The mirror's own tables are in mirror.ts.
 */
import type { Sql } from "../lib/sql.ts";
import type { PlannedWrite, StoredEntry } from "../logic/state-writes.ts";

export const STATE_SCHEMA = [
  `CREATE TABLE state_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     version INTEGER NOT NULL,
     alarm_at INTEGER,
     log_floor INTEGER NOT NULL,
     log_entries INTEGER NOT NULL,
     log_bytes INTEGER NOT NULL
   );
   INSERT INTO state_meta (id, version, alarm_at, log_floor, log_entries, log_bytes) VALUES (1, 0, NULL, 0, 0, 0);
   CREATE TABLE state_keys (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     version INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     expires_at INTEGER
   );
   CREATE INDEX state_keys_expiry ON state_keys (expires_at) WHERE expires_at IS NOT NULL;
   CREATE TABLE state_log (
     version INTEGER PRIMARY KEY,
     op TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT,
     bytes INTEGER NOT NULL
   );`,
  // Expiry takes keys in (expires_at, key) order: with the key in the index a step reads only the
  // rows it removes; the old index made every step sort all due keys (100,000 rows read for 100).
  `DROP INDEX state_keys_expiry;
   CREATE INDEX state_keys_expiry ON state_keys (expires_at, key) WHERE expires_at IS NOT NULL;`,
] as const;

/**
 * One expiry step in two statements (one per key cost several times the CPU). `log` writes the log
 * rows of up to `?3` keys due at `?2`, oldest first, taking the versions after `?1`; `keys` deletes
 * the keys logged after `?1`. Ordered by the expiry index `(expires_at, key)`, a step reads only the
 * rows it expires (sorting every due key by key made each step read all of them: 200,001 rows read
 * for 100 with 100,000 due).
 */
export const EXPIRY_STEP_SQL = {
  log: `INSERT INTO state_log (version, op, key, value, bytes)
    SELECT ?1 + row_number() OVER (ORDER BY expires_at, key), 'expire', key, NULL, length(CAST(key AS BLOB))
    FROM (SELECT key, expires_at FROM state_keys WHERE expires_at IS NOT NULL AND expires_at <= ?2
          ORDER BY expires_at, key LIMIT ?3)
    WHERE true
    RETURNING version, key, bytes`,
  keys: "DELETE FROM state_keys WHERE key IN (SELECT key FROM state_log WHERE version > ?1)",
} as const;

/** The change log's bounds as counted: the version below the oldest entry, entries, bytes. */
export interface LogCounters {
  floor: number;
  entries: number;
  bytes: number;
}

/** The namespace's counters as stored. */
export interface StateMeta {
  version: number;
  alarmAt: number | null;
  log: LogCounters;
}

type KeyRow = { value: string; version: number; updated_at: number; expires_at: number | null };
export type LogRow = { version: number; op: string; key: string; value: string | null };

export class StateStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  meta(): StateMeta {
    const meta = this.sql.one<{
      version: number;
      alarm_at: number | null;
      log_floor: number;
      log_entries: number;
      log_bytes: number;
    }>("SELECT version, alarm_at, log_floor, log_entries, log_bytes FROM state_meta");
    return {
      version: meta?.version ?? 0,
      alarmAt: meta?.alarm_at ?? null,
      log: { floor: meta?.log_floor ?? 0, entries: meta?.log_entries ?? 0, bytes: meta?.log_bytes ?? 0 },
    };
  }

  saveMeta(version: number, alarmAt: number | null, log: LogCounters): void {
    this.sql.run(
      "UPDATE state_meta SET version = ?, alarm_at = ?, log_floor = ?, log_entries = ?, log_bytes = ?",
      version,
      alarmAt,
      log.floor,
      log.entries,
      log.bytes,
    );
  }

  /**
   * Up to `limit` keys after `after` from `prefix` on, in key order, skipping keys expired at `now`
   * that the alarm has not reached yet. (Keys with a prefix are one contiguous run in key order,
   * starting at the prefix itself; the caller stops at the first key past it.)
   */
  keysFrom(prefix: string, after: string, now: number, limit: number) {
    return this.sql.all<{ key: string; version: number; updated_at: number }>(
      `SELECT key, version, updated_at FROM state_keys
       WHERE key >= ? AND key > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
      prefix,
      after,
      now,
      limit,
    );
  }

  /** The entry of `key` as stored, expired or not. */
  entry(key: string): StoredEntry | undefined {
    const row = this.sql.one<KeyRow>(
      "SELECT value, version, updated_at, expires_at FROM state_keys WHERE key = ?",
      key,
    );
    return (
      row && { json: row.value, version: row.version, updatedAt: row.updated_at, expiresAt: row.expires_at }
    );
  }

  /**
   * Expires up to `limit` keys due at `now`, oldest first: logs them with the versions after
   * `from` and deletes them; answers the log rows in version order.
   */
  expireStep(from: number, now: number, limit: number): { version: number; key: string; bytes: number }[] {
    const expired = this.sql.all<{ version: number; key: string; bytes: number }>(
      EXPIRY_STEP_SQL.log,
      from,
      now,
      limit,
    );
    if (expired.length === 0) return expired;
    this.sql.run(EXPIRY_STEP_SQL.keys, from);
    // RETURNING gives rows in no particular order; changes go out in version order.
    return expired.sort((a, b) => a.version - b.version);
  }

  /** The earliest expiry of any key, or null. */
  nextExpiry(): number | null {
    return (
      this.sql.one<{ due: number | null }>(
        "SELECT MIN(expires_at) AS due FROM state_keys WHERE expires_at IS NOT NULL",
      )?.due ?? null
    );
  }

  /** Writes one change to its key row and appends it to the log. */
  write(write: PlannedWrite, json: string | null, bytes: number): void {
    if (write.op === "set") {
      this.sql.run(
        `INSERT INTO state_keys (key, value, version, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version,
           updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
        write.key,
        write.json,
        write.version,
        write.updatedAt,
        write.expiresAt,
      );
    } else {
      this.sql.run("DELETE FROM state_keys WHERE key = ?", write.key);
    }
    this.sql.run(
      "INSERT INTO state_log (version, op, key, value, bytes) VALUES (?, ?, ?, ?, ?)",
      write.version,
      write.op,
      write.key,
      json,
      bytes,
    );
  }

  /** The oldest `limit` log entries' versions and sizes. */
  oldestLog(limit: number): { version: number; bytes: number }[] {
    return this.sql.all<{ version: number; bytes: number }>(
      "SELECT version, bytes FROM state_log ORDER BY version LIMIT ?",
      limit,
    );
  }

  /** Drops the log up to and including `version`. */
  dropLogThrough(version: number): void {
    this.sql.run("DELETE FROM state_log WHERE version <= ?", version);
  }

  /** Up to `limit` log entries after `version`, oldest first. */
  logAfter(version: number, limit: number): LogRow[] {
    return this.sql.all<LogRow>(
      "SELECT version, op, key, value FROM state_log WHERE version > ? ORDER BY version LIMIT ?",
      version,
      limit,
    );
  }
}
