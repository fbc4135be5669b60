/**
 * One object per rate-limited scoped token (named by the token id): an exact sliding-window
 * counter ({@link SlidingLog}) whose allowed calls are also written to SQLite, so that an object
 * evicted between two calls of a slow, long-period token still remembers them.
 *
 * Why not the Workers Rate Limiting binding: its limit and period are fixed per binding in
 * wrangler.toml (and the period is 10 or 60 s), while each token carries its own
 * `{requests, periodMs}` chosen at minting (periods up to a day).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import type { RateLimit } from "../workers/http/access.ts";
import { migrate, Sql, startUp } from "./lib/sql.ts";
import { SlidingLog, type Take } from "./logic/sliding-log.ts";

const SCHEMA = [
  `CREATE TABLE calls (at INTEGER NOT NULL);
   CREATE INDEX calls_at ON calls (at);`,
] as const;

export class TokenRateLimitObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly ready: Promise<void>;
  private log: { key: string; log: SlidingLog } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.ready = startUp(ctx, () => migrate(this.sql, SCHEMA));
  }

  /** Counts one call against `limit` at `now` (the object's clock unless a test gives one). */
  async take(limit: RateLimit, now: number = Date.now()): Promise<Take> {
    await this.ready;
    const log = this.logFor(limit);
    const taken = log.take(now);
    if (taken.allowed) {
      this.sql.run("INSERT INTO calls (at) VALUES (?)", now);
      this.sql.run("DELETE FROM calls WHERE at <= ?", now - limit.periodMs);
    }
    return taken;
  }

  /** The log for this limit, loaded from storage on first use (a token's limit never changes). */
  private logFor(limit: RateLimit): SlidingLog {
    const key = `${limit.requests}/${limit.periodMs}`;
    if (this.log?.key !== key) {
      const rows = this.sql.all<{ at: number }>(
        "SELECT at FROM calls ORDER BY at DESC LIMIT ?",
        limit.requests,
      );
      this.log = {
        key,
        log: new SlidingLog(
          limit.requests,
          limit.periodMs,
          rows.map((r) => r.at),
        ),
      };
    }
    return this.log.log;
  }
}
