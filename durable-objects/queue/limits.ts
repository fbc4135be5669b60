/**
 * A queue's lease limits as the object keeps them: the operator's settings, the rate limit's
 * window ({@link WindowLimit}) and how often each limit bit, in memory and in SQLite, so that a
 * restarted object still counts the leases of the last period.
 */
import { z } from "@hono/zod-openapi";
import { QueueConfig } from "../../shared/schemas/queue-config.ts";
import type { Sql } from "../lib/sql.ts";
import { allowance, type Bites, type LeaseLimits, NO_LIMITS } from "../logic/lease-limits.ts";
import { type Taken, WindowLimit } from "../logic/window-limit.ts";

/** The limits' tables: one migration step of the queue's schema (see `QUEUE_SCHEMA`). */
export const LIMITS_SCHEMA = `CREATE TABLE lease_tokens (at INTEGER NOT NULL, n INTEGER NOT NULL);
   CREATE INDEX lease_tokens_at ON lease_tokens (at);
   CREATE TABLE queue_limits (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     config TEXT NOT NULL,
     bites TEXT NOT NULL
   );
   INSERT INTO queue_limits (id, config, bites)
     VALUES (1, '${JSON.stringify(NO_LIMITS)}', '{"rate":0,"concurrency":0}');`;

/** How often each limit bit, as `queue_limits` stores it (checked when read back). */
const StoredBites: z.ZodType<Bites> = z.object({ rate: z.number().int(), concurrency: z.number().int() });

/** A change of the settings: an absent field stays, null removes that limit. */
export interface LimitsPatch {
  rateLimit?: LeaseLimits["rateLimit"];
  maxLeased?: LeaseLimits["maxLeased"];
}

export class QueueLimits {
  private readonly sql: Sql;
  private limits: LeaseLimits = NO_LIMITS;
  private rate: WindowLimit | null = null;
  private bites: Bites = { rate: 0, concurrency: 0 };

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Reads the settings, the bites and the tokens still out (at start-up, after a failed transaction). */
  load(): void {
    const row = this.sql.one<{ config: string; bites: string }>(
      "SELECT config, bites FROM queue_limits WHERE id = 1",
    );
    this.limits = row ? QueueConfig.parse(JSON.parse(row.config)) : NO_LIMITS;
    this.bites = row ? StoredBites.parse(JSON.parse(row.bites)) : { rate: 0, concurrency: 0 };
    const rate = this.limits.rateLimit;
    this.rate = rate === null ? null : new WindowLimit(rate.leases, rate.periodMs, this.taken());
  }

  get config(): LeaseLimits {
    return this.limits;
  }

  /** What `stats` adds: the limits set and how often they bit (nothing for a queue never limited). */
  stats(): { rateLimit?: NonNullable<LeaseLimits["rateLimit"]>; maxLeased?: number; limited?: Bites } {
    const { rateLimit, maxLeased } = this.limits;
    const ever = this.bites.rate + this.bites.concurrency > 0;
    return {
      ...(rateLimit === null ? {} : { rateLimit }),
      ...(maxLeased === null ? {} : { maxLeased }),
      ...(rateLimit !== null || maxLeased !== null || ever ? { limited: { ...this.bites } } : {}),
    };
  }

  /** Applies a change of the settings. A new rate keeps counting the leases of the last period. */
  set(patch: LimitsPatch): LeaseLimits {
    const next: LeaseLimits = {
      rateLimit: patch.rateLimit === undefined ? this.limits.rateLimit : patch.rateLimit,
      maxLeased: patch.maxLeased === undefined ? this.limits.maxLeased : patch.maxLeased,
    };
    this.sql.run("UPDATE queue_limits SET config = ? WHERE id = 1", JSON.stringify(next));
    this.limits = next;
    const rate = next.rateLimit;
    this.rate = rate === null ? null : new WindowLimit(rate.leases, rate.periodMs, this.taken());
    if (rate === null) this.sql.run("DELETE FROM lease_tokens");
    return next;
  }

  /**
   * How many of `asked` ready tasks a lease may take at `now` with `leased` tasks leased; when
   * the limits cut it, the bite is counted.
   */
  allow(asked: number, leased: number, now: number): number {
    if (asked <= 0 || (this.rate === null && this.limits.maxLeased === null)) return asked;
    const tokens = this.rate?.available(now) ?? Number.POSITIVE_INFINITY;
    const { allowed, bitBy } = allowance(asked, tokens, leased, this.limits.maxLeased);
    if (bitBy !== null) {
      this.bites[bitBy]++;
      this.sql.run("UPDATE queue_limits SET bites = ? WHERE id = 1", JSON.stringify(this.bites));
    }
    return allowed;
  }

  /** Records `n` tasks leased at `now` against the rate. */
  took(n: number, now: number): void {
    if (this.rate === null || n <= 0) return;
    this.rate.take(now, n);
    this.sql.run("INSERT INTO lease_tokens (at, n) VALUES (?, ?)", now, n);
    this.sql.run("DELETE FROM lease_tokens WHERE at <= ?", now - this.rate.periodMs);
  }

  /** When the rate limit next gives a token back, or null (no rate limit, or none out). */
  nextTokenAt(now: number): number | null {
    return this.rate?.nextFreeAt(now) ?? null;
  }

  /** Forgets everything (the queue was deleted). */
  deleteAll(): void {
    this.sql.run("DELETE FROM lease_tokens");
    this.sql.run(
      "UPDATE queue_limits SET config = ?, bites = ? WHERE id = 1",
      JSON.stringify(NO_LIMITS),
      JSON.stringify({ rate: 0, concurrency: 0 }),
    );
    this.load();
  }

  private taken(): Taken[] {
    return this.sql.all<{ at: number; n: number }>("SELECT at, n FROM lease_tokens ORDER BY at");
  }
}
