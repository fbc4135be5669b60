/**
 * The registry's rows: what was minted (never the token text) and when it was revoked. Rows are
 * kept after expiry so that revoking an expired id still answers `200`, as the contract says.
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
] as const;

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
