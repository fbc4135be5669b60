/**
 * One object per rate-limited scoped token (named by the token id): an exact sliding-window
 * limit ({@link WindowLimit}) whose allowed calls are also written to SQLite, so that an object
 * evicted between two calls of a slow, long-period token still remembers them.
 *
 * Why not the Workers Rate Limiting binding: its limit and period are fixed per binding in
 * wrangler.toml (and the period is 10 or 60 s), while each token carries its own
 * `{requests, periodMs}` chosen at minting (periods up to a day).
 */
import type { Env } from "../../shared/env.ts";
import type { RateLimit } from "../../workers/http/access.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { type Take, takeOne, WindowLimit } from "../logic/window-limit.ts";
import { CALLS_SCHEMA, CallStore } from "./store.ts";

export class TokenRateLimitObject extends SqlObject {
  private readonly store: CallStore;
  private window: { key: string; limit: WindowLimit } | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, CALLS_SCHEMA);
    this.store = new CallStore(this.sql);
  }

  /** Counts one call against `limit` at `now` (the object's clock unless a test gives one). */
  async take(limit: RateLimit, now: number = this.clock.now()): Promise<Take> {
    await this.ready;
    return this.transaction(() => {
      const taken = takeOne(this.windowFor(limit), now);
      if (taken.allowed) this.store.add(now, now - limit.periodMs);
      return taken;
    });
  }

  /** The window is rebuilt from storage on its next use. */
  protected override load(): void {
    this.window = undefined;
  }

  /** The window for this limit, loaded from storage on first use (a token's limit never changes). */
  private windowFor(limit: RateLimit): WindowLimit {
    const key = `${limit.requests}/${limit.periodMs}`;
    if (this.window?.key !== key) {
      const calls = this.store.latest(limit.requests).map((at) => ({ at, n: 1 }));
      this.window = { key, limit: new WindowLimit(limit.requests, limit.periodMs, calls) };
    }
    return this.window.limit;
  }
}
