/**
 * One object per shared circuit breaker: the state and sliding window every isolate in every
 * region reads and feeds, and the half-open probe slots it hands out, so that only
 * `halfOpenProbes` callers probe at once worldwide. The rules are the resilience library's
 * {@link Breaker}; this class loads its snapshot, calls it with the time, stores it back and keeps
 * the alarm at the next instant time alone changes something (the end of the cool-down, or a
 * probe that never reported).
 */
import type { Env } from "../../shared/env.ts";
import { Breaker, type BreakerConfig } from "../../shared/resilience/breaker.ts";
import {
  type BreakerAcquired,
  BreakerConfig as BreakerConfigSchema,
  type BreakerInfo,
  type BreakerOutcome,
  type BreakerRecorded,
  type BreakerSettings,
} from "../../shared/schemas/breaker.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { BREAKER_SCHEMA, BreakerStore } from "./store.ts";

/** The settings of a breaker nobody configured. */
const DEFAULTS: BreakerSettings = BreakerConfigSchema.parse({});

/** The contract's settings as the library's breaker rules. */
const rules = (s: BreakerSettings): BreakerConfig => ({
  consecutiveFailures: s.consecutiveFailures,
  minimumCalls: s.minimumCalls,
  window: { kind: "time", ms: s.windowMs },
  openMs: s.openMs,
  halfOpenProbes: s.halfOpenProbes,
  ...(s.failureRate !== undefined && { failureRate: s.failureRate }),
  ...(s.slowCallMs !== undefined && { slowCallMs: s.slowCallMs }),
});

export class CircuitBreakerObject extends SqlObject {
  private readonly store: BreakerStore;
  private readonly alarmTime: ObjectAlarm;
  private settings: BreakerSettings = DEFAULTS;
  private breaker = new Breaker(rules(DEFAULTS));

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, BREAKER_SCHEMA);
    this.store = new BreakerStore(this.sql);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
  }

  protected override load(): void {
    const stored = this.store.load();
    this.settings = stored.settings ?? DEFAULTS;
    this.breaker = new Breaker(rules(this.settings), stored.snapshot);
    this.alarmTime.restore(stored.alarmAt);
  }

  /** Replaces the settings; the state, counters and (for the same `windowMs`) the window carry over. */
  async configure(settings: BreakerSettings): Promise<BreakerSettings> {
    await this.ready;
    return this.transaction(() => {
      this.settings = settings;
      this.breaker = new Breaker(rules(settings), this.breaker.toJSON());
      this.saveAndAimAlarm(this.clock.now());
      return settings;
    });
  }

  /** May a call go now? In half-open, a yes takes one of the probe slots. */
  async acquire(): Promise<BreakerAcquired> {
    await this.ready;
    const now = this.clock.now();
    return this.transaction((): BreakerAcquired => {
      const admission = this.breaker.acquire(now);
      const state = this.breaker.state(now).state;
      // A closed breaker lets everything through without changing: nothing to write.
      if (admission.allowed && !admission.probe) return { state, allowed: true };
      this.saveAndAimAlarm(now);
      if (admission.allowed) return { state, allowed: true };
      return { state, allowed: false, retryAfterMs: admission.retryAfterMs };
    });
  }

  /** Takes outcomes, in the order they happened, and answers the state after them. */
  async record(outcomes: readonly BreakerOutcome[]): Promise<BreakerRecorded> {
    await this.ready;
    const now = this.clock.now();
    return this.transaction((): BreakerRecorded => {
      for (const o of outcomes) this.breaker.record(o.ok, o.latencyMs, now);
      this.saveAndAimAlarm(now);
      const c = this.breaker.state(now);
      return c.state === "open" ? { state: c.state, retryAfterMs: c.halfOpenAt - now } : { state: c.state };
    });
  }

  /** The state, the settings in force and the lifetime counters. */
  async info(): Promise<BreakerInfo> {
    await this.ready;
    const now = this.clock.now();
    return this.transaction(() => {
      const state = this.breaker.state(now).state;
      this.saveAndAimAlarm(now);
      return { state, config: this.settings, counters: { ...this.breaker.counters } };
    });
  }

  /** Applies what is due by the time the alarm was set for. Idempotent. */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    this.transaction(() => this.saveAndAimAlarm(now));
  }

  /** Applies what time alone changed, aims the alarm at the next deadline and stores the breaker. */
  private saveAndAimAlarm(now: number): void {
    this.breaker.tick(now);
    this.alarmTime.aim(this.breaker.nextDeadline() ?? null);
    this.store.save(
      this.settings === DEFAULTS ? undefined : this.settings,
      this.breaker.toJSON(),
      this.alarmTime.at,
    );
  }
}
