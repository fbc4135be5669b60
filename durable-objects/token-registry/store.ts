/**
 * The registry's rows: what was minted (never the token text) and when it was revoked, until a
 * while after the token expired (the alarm prunes them); the secret that proves its token ids
 * (`logic/token-ids.ts`), so that revoking an id whose row is gone still answers `200`, as the
 * contract says; and the alarm's time.
 */
import type { TokenInfoValue, TokenListValue } from "../../shared/schemas/tokens.ts";
import type { RateLimit, Scope } from "../../workers/http/access.ts";
import type { Sql } from "../lib/sql.ts";

export const TOKEN_REGISTRY_SCHEMA = [
  `CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     label TEXT,
     scopes TEXT NOT NULL,
     expires_at INTEGER NOT NULL,
     rate_limit TEXT,
     revoked_at INTEGER
   );
   CREATE INDEX tokens_revoked ON tokens (revoked_at, expires_at) WHERE revoked_at IS NOT NULL;`,
  // Pruning takes rows in expiry order; ids minted before ids carried a proof are kept aside.
  `CREATE INDEX tokens_expiry ON tokens (expires_at);
   CREATE TABLE registry_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     id_secret BLOB,
     alarm_at INTEGER
   );
   INSERT INTO registry_meta (id, id_secret, alarm_at) VALUES (1, NULL, NULL);
   CREATE TABLE unproved_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
   INSERT INTO unproved_ids (id) SELECT id FROM tokens;`,
] as const;

/**
 * One pruning step: up to `?2` rows whose token expired by `?1`, earliest first. Through the
 * expiry index (which holds the rowid), the step reads only the rows it deletes.
 */
export const PRUNE_STEP_SQL = `DELETE FROM tokens WHERE rowid IN (
  SELECT rowid FROM tokens WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)`;

/** What the registry keeps of a minted token. */
export interface TokenRecord {
  id: string;
  label: string | null;
  scopes: Scope[];
  expiresAt: number;
  rateLimit?: RateLimit;
}

type Row = {
  id: string;
  label: string | null;
  scopes: string;
  expires_at: number;
  rate_limit: string | null;
};

const toInfo = (row: Row): TokenInfoValue => ({
  id: row.id,
  label: row.label,
  scopes: JSON.parse(row.scopes) as Scope[],
  expiresAt: row.expires_at,
  ...(row.rate_limit === null ? {} : { rateLimit: JSON.parse(row.rate_limit) as RateLimit }),
});

export class TokenStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  insert(token: TokenRecord): void {
    this.sql.run(
      "INSERT INTO tokens (id, label, scopes, expires_at, rate_limit) VALUES (?, ?, ?, ?, ?)",
      token.id,
      token.label,
      JSON.stringify(token.scopes),
      token.expiresAt,
      token.rateLimit ? JSON.stringify(token.rateLimit) : null,
    );
  }

  /** Live tokens (neither expired nor revoked at `now`) in id order, a page after `cursor`. */
  live(limit: number, cursor: string | undefined, now: number): TokenListValue {
    const rows = this.sql.all<Row>(
      `SELECT id, label, scopes, expires_at, rate_limit FROM tokens
       WHERE id > ? AND revoked_at IS NULL AND expires_at > ? ORDER BY id LIMIT ?`,
      cursor ?? "",
      now,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return {
      tokens: page.map(toInfo),
      cursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  exists(id: string): boolean {
    return this.sql.one("SELECT id FROM tokens WHERE id = ?", id) !== undefined;
  }

  /** Marks `id` revoked at `now`, unless it was revoked before. */
  revoke(id: string, now: number): void {
    this.sql.run("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id);
  }

  /**
   * Whether `id` was minted before ids carried their proof (those ids are kept, so that revoking
   * one still answers `200` once its row is pruned).
   */
  mintedUnproved(id: string): boolean {
    return this.sql.one("SELECT id FROM unproved_ids WHERE id = ?", id) !== undefined;
  }

  /** The secret that proves token ids (null until the first start sets it) and the alarm's time. */
  meta(): { idSecret: ArrayBuffer | null; alarmAt: number | null } {
    const row = this.sql.one<{ id_secret: ArrayBuffer | null; alarm_at: number | null }>(
      "SELECT id_secret, alarm_at FROM registry_meta",
    );
    return { idSecret: row?.id_secret ?? null, alarmAt: row?.alarm_at ?? null };
  }

  /** Sets the id secret, once: an object's ids must stay provable for good. */
  saveIdSecret(secret: ArrayBuffer): void {
    this.sql.run("UPDATE registry_meta SET id_secret = ? WHERE id_secret IS NULL", secret);
  }

  saveAlarmAt(at: number | null): void {
    this.sql.run("UPDATE registry_meta SET alarm_at = ?", at);
  }

  /** Deletes up to `limit` rows whose token expired by `before`, earliest first; returns how many. */
  prune(before: number, limit: number): number {
    return this.sql.count(PRUNE_STEP_SQL, before, limit);
  }

  /** The earliest expiry of any row kept, or null when none is. */
  earliestExpiry(): number | null {
    return this.sql.one<{ at: number | null }>("SELECT min(expires_at) AS at FROM tokens")?.at ?? null;
  }

  /** Ids revoked before they expired, still unexpired at `now`. */
  revokedIds(now: number): string[] {
    return this.sql
      .all<{ id: string }>(
        "SELECT id FROM tokens WHERE revoked_at IS NOT NULL AND expires_at > ? ORDER BY id",
        now,
      )
      .map((r) => r.id);
  }
}
