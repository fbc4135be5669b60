/** The cluster monitor's rows: its state and alarm, the failover history, the restore points. */
import type { FailoverRecord, RestorePoint } from "../../shared/schemas/db.ts";
import type { Sql } from "../lib/sql.ts";
import type { MonitorState } from "../logic/cluster-monitor.ts";

export const CLUSTER_SCHEMA = [
  `CREATE TABLE db_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     state TEXT,
     alarm_at INTEGER
   );
   INSERT INTO db_meta (id, state, alarm_at) VALUES (1, NULL, NULL);
   CREATE TABLE db_failovers (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     from_node TEXT NOT NULL,
     to_node TEXT NOT NULL,
     at INTEGER NOT NULL,
     reason TEXT NOT NULL,
     automatic INTEGER NOT NULL
   );
   CREATE TABLE db_restore_points (
     name TEXT PRIMARY KEY,
     lsn TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     node TEXT NOT NULL
   );`,
] as const;

export class ClusterStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** The monitor's state as last saved (null before the first round) and the alarm's time. */
  meta(): { state: MonitorState | null; alarmAt: number | null } {
    const meta = this.sql.one<{ state: string | null; alarm_at: number | null }>(
      "SELECT state, alarm_at FROM db_meta",
    );
    return {
      state: meta?.state ? (JSON.parse(meta.state) as MonitorState) : null,
      alarmAt: meta?.alarm_at ?? null,
    };
  }

  saveState(state: MonitorState | null): void {
    this.sql.run("UPDATE db_meta SET state = ?", JSON.stringify(state));
  }

  saveAlarmAt(at: number): void {
    this.sql.run("UPDATE db_meta SET alarm_at = ?", at);
  }

  recordFailover(record: FailoverRecord): void {
    this.sql.run(
      "INSERT INTO db_failovers (from_node, to_node, at, reason, automatic) VALUES (?, ?, ?, ?, ?)",
      record.from,
      record.to,
      record.at,
      record.reason,
      record.automatic ? 1 : 0,
    );
  }

  /** The failover history, oldest first. */
  failovers(): FailoverRecord[] {
    return this.sql
      .all<{ from_node: string; to_node: string; at: number; reason: string; automatic: number }>(
        "SELECT from_node, to_node, at, reason, automatic FROM db_failovers ORDER BY id",
      )
      .map((r) => ({
        from: r.from_node,
        to: r.to_node,
        at: r.at,
        reason: r.reason,
        automatic: r.automatic === 1,
      }));
  }

  hasRestorePoint(name: string): boolean {
    return this.sql.one("SELECT name FROM db_restore_points WHERE name = ?", name) !== undefined;
  }

  addRestorePoint(point: RestorePoint): void {
    this.sql.run(
      "INSERT INTO db_restore_points (name, lsn, created_at, node) VALUES (?, ?, ?, ?)",
      point.name,
      point.lsn,
      point.createdAt,
      point.node,
    );
  }

  /** Restore points, oldest first. */
  restorePoints(): RestorePoint[] {
    return this.sql
      .all<{ name: string; lsn: string; created_at: number; node: string }>(
        "SELECT name, lsn, created_at, node FROM db_restore_points ORDER BY created_at, name",
      )
      .map((r) => ({ name: r.name, lsn: r.lsn, createdAt: r.created_at, node: r.node }));
  }
}
