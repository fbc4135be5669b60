/**
 * One object per shared circuit breaker: the state and sliding window every isolate in every
 * region reads and feeds, and the half-open probe slots it hands out, so that only
 * `halfOpenProbes` callers probe at once worldwide. The rules are the resilience library's
 * {@link Breaker}; this class loads its snapshot, calls it with the time, stores it back and keeps
 * the alarm at the next instant time alone changes something (the end of the cool-down, or a
 * probe that never reported).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { Breaker, type BreakerConfig, type BreakerSnapshot } from "../shared/resilience/breaker.ts";
import {
  type BreakerAcquired,
  BreakerConfig as BreakerConfigSchema,
  type BreakerInfo,
  type BreakerOutcome,
  type BreakerRecorded,
  type BreakerSettings,
} from "../shared/schemas/breaker.ts";
import { pointAlarm } from "./lib/alarm.ts";
import { migrate, Sql, startUp } from "./lib/sql.ts";

const SCHEMA = [
  `CREATE TABLE breaker (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     config TEXT,
     snapshot TEXT,
     alarm_at INTEGER
   );
   INSERT INTO breaker (id, config, snapshot, alarm_at) VALUES (1, NULL, NULL, NULL);`,
] as const;

/** The settings of a breaker nobody configured. */
const DEFAULTS: BreakerSettings = BreakerConfigSchema.parse({});

/** The contract's settings as the library's breaker rules. */
function rules(s: BreakerSettings): BreakerConfig {
  const config: BreakerConfig = {
    consecutiveFailures: s.consecutiveFailures,
    minimumCalls: s.minimumCalls,
    window: { kind: "time", ms: s.windowMs },
    openMs: s.openMs,
    halfOpenProbes: s.halfOpenProbes,
  };
  if (s.failureRate !== undefined) config.failureRate = s.failureRate;
  if (s.slowCallMs !== undefined) config.slowCallMs = s.slowCallMs;
  return config;
}

export class CircuitBreakerObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly ready: Promise<void>;
  private settings: BreakerSettings = DEFAULTS;
  private breaker = new Breaker(rules(DEFAULTS));
  /** When the alarm is set for, as last written; the alarm treats that instant as "now". */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.ready = startUp(ctx, () => {
      migrate(this.sql, SCHEMA);
      this.load();
    });
  }

  /** Replaces the settings; the state, counters and (for the same `windowMs`) the window carry over. */
  async configure(settings: BreakerSettings): Promise<BreakerSettings> {
    await this.ready;
    this.settings = settings;
    this.breaker = new Breaker(rules(settings), this.breaker.toJSON());
    this.commit(Date.now());
    return settings;
  }

  /** May a call go now? In half-open, a yes takes one of the probe slots. */
  async acquire(): Promise<BreakerAcquired> {
    await this.ready;
    const now = Date.now();
    const admission = this.breaker.acquire(now);
    const state = this.breaker.state(now).state;
    // A closed breaker lets everything through without changing: nothing to write.
    if (admission.allowed && !admission.probe) return { state, allowed: true };
    this.commit(now);
    if (admission.allowed) return { state, allowed: true };
    return { state, allowed: false, retryAfterMs: admission.retryAfterMs };
  }

  /** Takes outcomes, in the order they happened, and answers the state after them. */
  async record(outcomes: readonly BreakerOutcome[]): Promise<BreakerRecorded> {
    await this.ready;
    const now = Date.now();
    for (const o of outcomes) this.breaker.record(o.ok, o.latencyMs, now);
    this.commit(now);
    const c = this.breaker.state(now);
    return c.state === "open" ? { state: c.state, retryAfterMs: c.halfOpenAt - now } : { state: c.state };
  }

  /** The state, the settings in force and the lifetime counters. */
  async info(): Promise<BreakerInfo> {
    await this.ready;
    const now = Date.now();
    const state = this.breaker.state(now).state;
    this.commit(now);
    return { state, config: this.settings, counters: { ...this.breaker.counters } };
  }

  /**
   * Applies what is due by the time the alarm was set for (an alarm may run late, never early,
   * and `runDurableObjectAlarm` runs it ahead of time in tests). Idempotent.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = Math.max(Date.now(), this.alarmAt ?? 0);
    this.alarmAt = null;
    this.breaker.tick(now);
    this.commit(now);
  }

  private load(): void {
    const row = this.sql.one<{ config: string | null; snapshot: string | null; alarm_at: number | null }>(
      "SELECT config, snapshot, alarm_at FROM breaker",
    );
    this.settings = row?.config ? (JSON.parse(row.config) as BreakerSettings) : DEFAULTS;
    const snapshot = row?.snapshot ? (JSON.parse(row.snapshot) as BreakerSnapshot) : undefined;
    this.breaker = new Breaker(rules(this.settings), snapshot);
    this.alarmAt = row?.alarm_at ?? null;
  }

  /** Stores the settings and the breaker, and points the alarm at its next deadline. */
  private commit(now: number): void {
    this.breaker.tick(now);
    this.alarmAt = pointAlarm(this.ctx.storage, this.alarmAt, this.breaker.nextDeadline() ?? null);
    this.sql.run(
      "UPDATE breaker SET config = ?, snapshot = ?, alarm_at = ?",
      this.settings === DEFAULTS ? null : JSON.stringify(this.settings),
      JSON.stringify(this.breaker.toJSON()),
      this.alarmAt,
    );
  }
}
