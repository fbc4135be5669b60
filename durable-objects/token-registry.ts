/**
 * The one registry of minted scoped tokens (a single object, named `registry`): what was minted
 * (never the token text), which ids are revoked, and the live ones for the listing. Verification
 * never calls it on the request path: isolates cache its revoked-id list (workers/tokens/revocations.ts).
 * Rows are kept after expiry so that revoking an expired id still answers `200`, as the contract says.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import type { TokenInfoValue, TokenListValue } from "../shared/schemas/tokens.ts";
import type { RateLimit, Scope } from "../workers/http/access.ts";
import { migrate, Sql, startUp } from "./lib/sql.ts";

const SCHEMA = [
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

export class TokenRegistryObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly ready: Promise<void>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.ready = startUp(ctx, () => migrate(this.sql, SCHEMA));
  }

  /** Records a freshly minted token. */
  async record(token: TokenRecord): Promise<void> {
    await this.ready;
    this.sql.run(
      "INSERT INTO tokens (id, label, scopes, expires_at, rate_limit) VALUES (?, ?, ?, ?, ?)",
      token.id,
      token.label,
      JSON.stringify(token.scopes),
      token.expiresAt,
      token.rateLimit ? JSON.stringify(token.rateLimit) : null,
    );
  }

  /** Live tokens (neither expired nor revoked) in id order, a page after `cursor`. */
  async list(limit: number, cursor: string | undefined, now: number): Promise<TokenListValue> {
    await this.ready;
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

  /** Revokes a token; again for one already revoked or expired. `not_found` for an id never minted. */
  async revoke(id: string, now: number): Promise<Result<{ revoked: true }>> {
    await this.ready;
    const row = this.sql.one<{ id: string }>("SELECT id FROM tokens WHERE id = ?", id);
    if (!row) return fail("not_found", `no token ${id} was minted here`);
    this.sql.run("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id);
    return ok({ revoked: true as const });
  }

  /** Ids revoked before they expired, still unexpired at `now`: the list isolates cache. */
  async revokedIds(now: number): Promise<string[]> {
    await this.ready;
    return this.sql
      .all<{ id: string }>(
        "SELECT id FROM tokens WHERE revoked_at IS NOT NULL AND expires_at > ? ORDER BY id",
        now,
      )
      .map((r) => r.id);
  }
}
