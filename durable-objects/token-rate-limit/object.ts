/**
 * One object per rate-limited scoped token (named by the token id): an exact sliding-window
 * counter ({@link SlidingLog}) whose allowed calls are also written to SQLite, so that an object
 * evicted between two calls of a slow, long-period token still remembers them.
 *
 * Why not the Workers Rate Limiting binding: its limit and period are fixed per binding in
 * wrangler.toml (and the period is 10 or 60 s), while each token carries its own
 * `{requests, periodMs}` chosen at minting (periods up to a day).
 */
import type { Env } from "../../shared/env.ts";
import type { RateLimit } from "../../workers/http/access.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { SlidingLog, type Take } from "../logic/sliding-log.ts";
import { CALLS_SCHEMA, CallStore } from "./store.ts";

export class TokenRateLimitObject extends SqlObject {
  private readonly store: CallStore;
  private log: { key: string; log: SlidingLog } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, CALLS_SCHEMA);
    this.store = new CallStore(this.sql);
  }

  /** Counts one call against `limit` at `now` (the object's clock unless a test gives one). */
  async take(limit: RateLimit, now: number = this.clock.now()): Promise<Take> {
    await this.ready;
    return this.transaction(() => {
      const taken = this.logFor(limit).take(now);
      if (taken.allowed) this.store.add(now, now - limit.periodMs);
      return taken;
    });
  }

  /** The window is rebuilt from storage on its next use. */
  protected override load(): void {
    this.log = undefined;
  }

  /** The log for this limit, loaded from storage on first use (a token's limit never changes). */
  private logFor(limit: RateLimit): SlidingLog {
    const key = `${limit.requests}/${limit.periodMs}`;
    if (this.log?.key !== key) {
      this.log = {
        key,
        log: new SlidingLog(limit.requests, limit.periodMs, this.store.latest(limit.requests)),
      };
    }
    return this.log.log;
  }
}
