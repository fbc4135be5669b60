/** A shared breaker's one row: its settings (null for the defaults), its snapshot and its alarm. */
import type { BreakerSnapshot } from "../../shared/resilience/breaker.ts";
import type { BreakerSettings } from "../../shared/schemas/breaker.ts";
import type { Sql } from "../lib/sql.ts";

export const BREAKER_SCHEMA = [
  `CREATE TABLE breaker (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     config TEXT,
     snapshot TEXT,
     alarm_at INTEGER
   );
   INSERT INTO breaker (id, config, snapshot, alarm_at) VALUES (1, NULL, NULL, NULL);`,
] as const;

/** What the row holds; absent settings and snapshot are a breaker nobody configured or fed. */
export interface StoredBreaker {
  settings: BreakerSettings | undefined;
  snapshot: BreakerSnapshot | undefined;
  alarmAt: number | null;
}

export class BreakerStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  load(): StoredBreaker {
    const row = this.sql.one<{ config: string | null; snapshot: string | null; alarm_at: number | null }>(
      "SELECT config, snapshot, alarm_at FROM breaker",
    );
    return {
      settings: row?.config ? (JSON.parse(row.config) as BreakerSettings) : undefined,
      snapshot: row?.snapshot ? (JSON.parse(row.snapshot) as BreakerSnapshot) : undefined,
      alarmAt: row?.alarm_at ?? null,
    };
  }

  save(settings: BreakerSettings | undefined, snapshot: BreakerSnapshot, alarmAt: number | null): void {
    this.sql.run(
      "UPDATE breaker SET config = ?, snapshot = ?, alarm_at = ?",
      settings === undefined ? null : JSON.stringify(settings),
      JSON.stringify(snapshot),
      alarmAt,
    );
  }
}
