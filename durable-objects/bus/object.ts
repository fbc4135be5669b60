/**
 * One object per topic: the event log (per-topic `seq`, retained for replay), webhook subscriptions
 * with a pending delivery per event and subscription, and hibernatable WebSocket subscribers.
 * The rules live in `logic/` (filters, dispatch order, retry schedule, backpressure, URL rules),
 * the rows in {@link TopicStore}, webhook delivery in {@link WebhookDispatcher} and the sockets in
 * {@link TopicSockets}; this class validates calls, appends and prunes events, and keeps one alarm
 * at the earliest due time, so delivery goes on with nobody calling.
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import { redisConfigProblem } from "../../shared/redis/config.ts";
import {
  type BusEventValue,
  DEFAULT_TOPIC_CONFIG,
  type DeadLetterPage,
  type DeadLettersQueryInput,
  type EventsPageValue,
  type EventsQueryInput,
  eventsOf,
  type PublishInput,
  type PublishResult,
  type SubscriptionInfo,
  type SubscriptionInput,
  splitFilter,
  TopicConfig,
  type TopicConfigPatchValue,
  type TopicConfigValue,
  type TopicStatsValue,
} from "../../shared/schemas/bus.ts";
import { utf8Bytes } from "../../shared/schemas/common.ts";
import { generateSecret } from "../../shared/webhook-signature.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { answerClose } from "../lib/socket-close.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { admit } from "../logic/backpressure.ts";
import { matchesFilter } from "../logic/filter.ts";
import { fitPage, PAGE_BYTES } from "../logic/page-budget.ts";
import { DEFAULT_WEBHOOK_BACKOFF } from "../logic/retry-schedule.ts";
import { valueTooLarge } from "../logic/value-size.ts";
import { webhookUrlProblem } from "../logic/webhook-url.ts";
import { WebhookDispatcher } from "./dispatcher.ts";
import { RedisSinks } from "./redis-sink.ts";
import { TopicSockets } from "./sockets.ts";
import {
  type EventRow,
  type Subscriber,
  type SubscriptionRow,
  TOPIC_SCHEMA,
  TopicStore,
  toEvent,
} from "./store.ts";

/** Most subscriptions per topic (each event becomes one delivery per matching subscription). */
export const MAX_SUBSCRIPTIONS = 100;

/** Time-based pruning runs at most this often. */
const PRUNE_INTERVAL_MS = 60_000;

/** Most events one pruning step deletes (API 1.2: housekeeping in bounded steps). */
export const PRUNE_STEP = 1_000;

const subscriptionInfo = (s: Subscriber, now: number): SubscriptionInfo => ({
  id: s.id,
  ...(s.redis ? { redis: s.redis } : { url: s.url }),
  filter: s.filter,
  maxAttempts: s.maxAttempts,
  retry: { initialDelayMs: s.policy.initialDelayMs, maxDelayMs: s.policy.maxDelayMs },
  timeoutMs: s.timeoutMs,
  paused: s.paused,
  createdAt: s.createdAt,
  ...s.health.view(now),
});

const randomId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;

export class TopicObject extends SqlObject {
  private readonly store: TopicStore;
  private readonly sockets: TopicSockets;
  private readonly dispatcher: WebhookDispatcher;
  private readonly alarmTime: ObjectAlarm;
  /** The topic's name, which alarm-driven deliveries put in every event body (stored for alarms). */
  private topic = "";
  private config: TopicConfigValue = DEFAULT_TOPIC_CONFIG;
  private retained = 0;
  /** The last pruning step was full: the next one is due at once. */
  private pruneBehind = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, TOPIC_SCHEMA);
    const sql = this.sql;
    this.store = new TopicStore(sql);
    const eventOf = (row: EventRow) => toEvent(row, this.topic);
    const now = () => this.clock.now();
    this.alarmTime = new ObjectAlarm(ctx.storage, now);
    this.sockets = new TopicSockets(ctx, this.store, { now, toEvent: eventOf });
    this.dispatcher = new WebhookDispatcher(this.store, {
      now,
      maxInFlight: () => this.config.maxInFlight,
      toEvent: eventOf,
      settled: () => this.aimAlarm(),
      keepAlive: (work) => this.ctx.waitUntil(work),
      redis: new RedisSinks(env, sql),
      allowInsecure: () => this.env.ALLOW_INSECURE_WEBHOOKS === "true",
    });
  }

  /** Appends events (one or a batch) and queues a delivery per matching webhook subscription. */
  async publish(input: PublishInput): Promise<Result<PublishResult>> {
    await this.ready;
    const events = eventsOf(input);
    const texts: string[] = [];
    for (const [i, event] of events.entries()) {
      const text = JSON.stringify(event.data ?? null);
      const tooLarge = valueTooLarge(event.data, text, input.events ? `events.${i}.data` : "data");
      if (tooLarge) return tooLarge;
      texts.push(text);
    }
    const now = this.clock.now();
    const critical = events.map((e) => e.critical || e.priority === "critical");
    const sizes = texts.map(utf8Bytes);
    const undelivered = this.dispatcher.undelivered;
    const fanOut = this.dispatcher.subscriptionCount;
    const admission = admit({
      undelivered,
      limit: this.config.maxUndelivered,
      allCritical: critical.every(Boolean),
      nextDueInMs: (this.dispatcher.nextDue(now) ?? now) - now,
      undeliveredBytes: this.dispatcher.undeliveredBytes,
      // At most: each event may become a delivery for every subscription.
      incomingBytes: sizes.reduce((sum, n) => sum + n, 0) * fanOut,
      bytesLimit: this.config.maxUndeliveredBytes,
    });
    if (!admission.accept) {
      this.transaction(() => this.store.countRejected(events.length));
      if (admission.reason === "storage") {
        return fail(
          "backpressure",
          `topic ${this.topic} holds ${this.dispatcher.undeliveredBytes} bytes of undelivered events`,
          {
            reason: "storage",
            retryAfterSeconds: admission.retryAfterSeconds,
            undeliveredBytes: this.dispatcher.undeliveredBytes,
            limit: this.config.maxUndeliveredBytes,
          },
        );
      }
      return fail("backpressure", `topic ${this.topic} has ${undelivered} undelivered events`, {
        reason: "undelivered",
        retryAfterSeconds: admission.retryAfterSeconds,
        undelivered,
        limit: this.config.maxUndelivered,
      });
    }
    return this.operation(() => {
      const firstSeq = this.store.meta().next_seq;
      const ids: string[] = [];
      const seqs: number[] = [];
      events.forEach((e, i) => {
        const row: EventRow = {
          seq: firstSeq + i,
          id: randomId("evt"),
          type: e.type,
          priority: e.priority,
          critical: critical[i] ? 1 : 0,
          published_at: now,
          data: texts[i] as string,
        };
        this.append(row, sizes[i] as number, now);
        ids.push(row.id);
        seqs.push(row.seq);
      });
      this.store.countPublished(events.length);
      if (this.retained > this.config.maxRetained) this.prune(now);
      this.dispatcher.pump(now);
      return ok({ ids, seqs });
    });
  }

  /** Registers a webhook (its secret is returned here and never again) or a Redis target. */
  async createSubscription(input: SubscriptionInput): Promise<Result<{ id: string; secret?: string }>> {
    await this.ready;
    if (input.redis) {
      const unconfigured = redisConfigProblem(this.env);
      if (unconfigured) return { ok: false, error: unconfigured };
    } else {
      const allowInsecure = this.env.ALLOW_INSECURE_WEBHOOKS === "true";
      const problem = webhookUrlProblem(input.url ?? "", { allowInsecure });
      if (problem) return fail("invalid_request", `url: ${problem}`, { field: "url" });
    }
    const retry = input.retry ?? DEFAULT_WEBHOOK_BACKOFF;
    if (retry.maxDelayMs < retry.initialDelayMs) {
      return fail("invalid_request", "retry.maxDelayMs: must be at least retry.initialDelayMs", {
        field: "retry.maxDelayMs",
      });
    }
    if (this.dispatcher.subscriptionCount >= MAX_SUBSCRIPTIONS) {
      return fail("conflict", `topic ${this.topic} already has ${MAX_SUBSCRIPTIONS} subscriptions`, {
        limit: MAX_SUBSCRIPTIONS,
      });
    }
    const row: SubscriptionRow = {
      id: randomId("sub"),
      url: input.url ?? "",
      filter: JSON.stringify(input.filter ?? []),
      max_attempts: input.maxAttempts,
      initial_delay_ms: retry.initialDelayMs,
      max_delay_ms: retry.maxDelayMs,
      timeout_ms: input.timeoutMs,
      secret: input.redis ? "" : generateSecret(),
      created_at: this.clock.now(),
      paused: 0,
      consecutive_dead: 0,
      redis: input.redis ? JSON.stringify(input.redis) : null,
      health: null,
    };
    this.transaction(() => this.dispatcher.add(row));
    return ok(input.redis ? { id: row.id } : { id: row.id, secret: row.secret });
  }

  /** Every webhook subscription, oldest first, without secrets. */
  async listSubscriptions(): Promise<SubscriptionInfo[]> {
    await this.ready;
    const now = this.clock.now();
    return this.dispatcher.subscriptions().map((s) => subscriptionInfo(s, now));
  }

  /** Removes a subscription with its pending deliveries and dead letters. */
  async deleteSubscription(id: string): Promise<Result<{ deleted: true }>> {
    await this.ready;
    return this.operation(() => {
      if (!this.dispatcher.remove(id)) return this.unknownSubscription(id);
      return ok({ deleted: true as const });
    });
  }

  /** Takes a paused subscription back into service. */
  async resumeSubscription(id: string): Promise<Result<SubscriptionInfo>> {
    await this.ready;
    const sub = this.dispatcher.subscription(id);
    if (!sub) return this.unknownSubscription(id);
    const now = this.clock.now();
    this.operation(() => {
      this.dispatcher.resume(sub);
      this.dispatcher.pump(now);
    });
    return ok(subscriptionInfo(sub, now));
  }

  /** Pauses a subscription by hand: its pending non-critical deliveries go to its dead letters. */
  async pauseSubscription(id: string): Promise<Result<SubscriptionInfo>> {
    await this.ready;
    const sub = this.dispatcher.subscription(id);
    if (!sub) return this.unknownSubscription(id);
    this.operation(() => this.dispatcher.pause(sub));
    return ok(subscriptionInfo(sub, this.clock.now()));
  }

  /**
   * A page of a subscription's dead letters, oldest first, after `cursor`: at most `limit` and
   * {@link PAGE_BYTES} of event text (at least one), with the cursor of the next page.
   */
  async deadLetters(id: string, query: DeadLettersQueryInput): Promise<Result<DeadLetterPage>> {
    await this.ready;
    if (!this.dispatcher.subscription(id)) return this.unknownSubscription(id);
    const heads = this.store.deadLetterHeads(id, Number(query.cursor ?? 0), query.limit + 1);
    const n = fitPage(heads, query.limit);
    const first = heads[0];
    const last = heads[n - 1];
    if (!first || !last) return ok({ deadLetters: [], cursor: null });
    return ok({
      deadLetters: this.store.deadLetters(id, first.seq, last.seq).map((r) => ({
        event: JSON.parse(r.event) as BusEventValue,
        attempts: r.attempts,
        lastError: r.last_error,
        deadAt: r.dead_at,
      })),
      cursor: n < heads.length ? String(last.seq) : null,
    });
  }

  /**
   * Moves a subscription's dead letters (those with `seqs`, or all) back to pending deliveries
   * with their attempts reset, for the alarm to dispatch at once. Seqs that are not dead letters of
   * the subscription are skipped. Never refused for backpressure: the events were accepted once,
   * and refusing would only leave them where they are; they count as pending from now on.
   */
  async redriveDeadLetters(id: string, seqs: number[] | undefined): Promise<Result<{ redriven: number }>> {
    await this.ready;
    const sub = this.dispatcher.subscription(id);
    if (!sub) return this.unknownSubscription(id);
    return this.operation(() => {
      const { redriven, restored } = this.dispatcher.redrive(sub, seqs, this.clock.now());
      this.retained += restored;
      return ok({ redriven });
    });
  }

  /**
   * Retained events from `fromSeq` on, for pull consumers: at most `limit` and {@link PAGE_BYTES}
   * of event text (at least one). Sizes are read first and only the events returned are read whole.
   */
  async events(query: EventsQueryInput): Promise<EventsPageValue> {
    await this.ready;
    const filter = splitFilter(query.filter);
    // With a filter, scan a bounded number of rows so one call stays cheap; `nextSeq` resumes.
    const heads = this.store.eventHeads(query.fromSeq, filter.length > 0 ? query.limit * 10 : query.limit);
    const matching = heads.filter((h) => matchesFilter(filter, h.type));
    const taken = matching.slice(0, fitPage(matching, query.limit));
    const lastTaken = taken[taken.length - 1];
    // On after the last event returned when the page is full or cut by its budget, else after every row scanned.
    const cut = lastTaken !== undefined && (taken.length < matching.length || taken.length === query.limit);
    const lastScanned = heads[heads.length - 1];
    const next = cut ? lastTaken.seq + 1 : lastScanned ? lastScanned.seq + 1 : query.fromSeq;
    const events = this.store.eventsIn(taken.map((h) => h.seq)).map((row) => toEvent(row, this.topic));
    // Nothing at or after fromSeq: the next event published (or fromSeq, if that is later).
    const nextSeq = next === query.fromSeq ? Math.max(next, this.store.meta().next_seq) : next;
    return { events, nextSeq };
  }

  /** The counters of the contract's stats. */
  async stats(): Promise<TopicStatsValue> {
    await this.ready;
    const now = this.clock.now();
    const meta = this.store.meta();
    return {
      published: meta.published,
      delivered: meta.delivered,
      failed: meta.failed,
      rejected: meta.rejected,
      pending: this.dispatcher.undelivered,
      subscriptions: this.store.subscriptionStats().map((s) => ({
        id: s.id,
        pending: s.pending,
        lastSeqDelivered: s.last_seq_delivered,
        deadLetters: s.dead_letters,
        ...(this.dispatcher.subscription(s.id)?.health.view(now) ?? { receiver: "up" as const }),
      })),
    };
  }

  /**
   * Resolves once the webhook attempts in flight have settled, with those they start as they
   * finish (see {@link WebhookDispatcher.idle}): tests await it through `runInDurableObject`.
   */
  async deliveriesSettled(): Promise<void> {
    await this.ready;
    await this.dispatcher.idle();
  }

  /**
   * Sets the alarm for `at`, for tests: `runDurableObjectAlarm` then runs it as at that instant
   * (see {@link ObjectAlarm.ring}), so everything due by then goes out, whatever the wall clock says.
   */
  async setAlarmAt(at: number): Promise<void> {
    await this.ready;
    this.transaction(() => {
      if (this.alarmTime.aim(at)) this.store.saveAlarmAt(at);
    });
  }

  /** The topic's settings. */
  async getConfig(): Promise<TopicConfigValue> {
    await this.ready;
    return this.config;
  }

  /** Changes some settings; the rest stay. */
  async setConfig(patch: TopicConfigPatchValue): Promise<TopicConfigValue> {
    await this.ready;
    return this.operation(() => {
      this.config = { ...this.config, ...patch };
      this.store.saveConfig(this.config);
      const now = this.clock.now();
      this.prune(now);
      this.dispatcher.pump(now);
      return this.config;
    });
  }

  /**
   * A WebSocket subscriber (the Worker has validated the query and the upgrade, and relays the
   * client): accepted for hibernation, replays from `fromSeq` if given, then receives events as
   * they are published.
   */
  override async fetch(request: Request): Promise<Response> {
    await this.ready;
    const url = new URL(request.url);
    const fromSeq = url.searchParams.get("fromSeq");
    const client = this.operation(() =>
      this.sockets.accept(
        splitFilter(url.searchParams.get("filter") ?? undefined),
        fromSeq === null ? undefined : Number(fromSeq),
      ),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  /** What the Worker's relay forwards: acks, and the go-ahead for a replay's next step. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.ready;
    this.operation(() => this.sockets.receive(ws, message));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.ready;
    try {
      this.operation(() => this.sockets.forget(ws));
    } finally {
      answerClose(ws, code, reason);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.ready;
    console.warn("topic: WebSocket error", error);
    this.operation(() => this.sockets.forget(ws));
  }

  /**
   * Processes what is due by the time the alarm was set for (see the lock object): prunes old
   * events, re-sends unacknowledged critical events to sockets, starts due webhook attempts and
   * waits for them (every attempt, wherever started, is also under `ctx.waitUntil`). Idempotent.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    const started = this.operation(() => {
      // The alarm that rang is gone: forget it in storage too, so a restart does not read it back.
      this.store.saveAlarmAt(null);
      if (this.pruneBehind || now >= this.store.meta().pruned_at + PRUNE_INTERVAL_MS) this.prune(now);
      this.sockets.resendOverdue(now);
      return this.dispatcher.pump(now);
    });
    await Promise.allSettled(started);
  }

  protected override load(): void {
    const meta = this.store.meta();
    this.topic = meta.name ?? "";
    this.config = TopicConfig.parse({ ...DEFAULT_TOPIC_CONFIG, ...(JSON.parse(meta.config) as object) });
    this.alarmTime.restore(meta.alarm_at);
    this.dispatcher.load();
    this.retained = this.store.count("events");
  }

  /** Stores the name the object was reached by, retries what a restart cut short, aims the alarm. */
  protected override onStart(): void {
    if (this.name !== "" && this.name !== this.topic) {
      this.topic = this.name;
      this.store.saveName(this.name);
    }
    this.dispatcher.retryCutShort(this.clock.now());
    this.aimAlarm();
  }

  /** Runs `op` as one transaction that ends by aiming the alarm; memory is reloaded if it throws. */
  private operation<T>(op: () => T): T {
    return this.transaction(() => {
      const result = op();
      this.aimAlarm();
      return result;
    });
  }

  /** Stores one event, queues its webhook deliveries and sends it to matching sockets. */
  private append(row: EventRow, bytes: number, now: number): void {
    this.store.insertEvent(row);
    this.retained++;
    this.dispatcher.enqueue(row, bytes, now);
    this.sockets.broadcast(row, now);
  }

  /**
   * Drops events past the retention time, then the oldest past the retained count, except those a
   * webhook or a socket still has to receive: an accepted event is never lost before delivery.
   * At most {@link PRUNE_STEP} a call, so that no request waits for a mass expiry.
   */
  private prune(now: number): void {
    const expired = this.store.deletePublishedBefore(now - this.config.retentionMs, PRUNE_STEP);
    this.retained -= expired;
    const excess = Math.min(this.retained - this.config.maxRetained, PRUNE_STEP - expired);
    const dropped = excess > 0 ? this.store.deleteOldest(excess) : 0;
    this.retained -= dropped;
    // A full step may have left more behind: the next one is due at once, on the alarm.
    this.pruneBehind = expired + dropped >= PRUNE_STEP;
    this.store.savePrunedAt(now);
  }

  /**
   * Points the alarm at the earliest due time: a webhook attempt (see
   * {@link WebhookDispatcher.nextDue}), an unacked socket event, or the next pruning.
   */
  private aimAlarm(): void {
    const times: number[] = this.pruneBehind ? [this.clock.now()] : [];
    const delivery = this.dispatcher.nextDue();
    if (delivery !== null) times.push(delivery);
    const ack = this.store.earliestAckDue();
    if (ack !== null) times.push(ack);
    const oldest = this.store.oldestPublishedAt();
    if (oldest !== undefined) {
      times.push(Math.max(oldest + this.config.retentionMs, this.store.meta().pruned_at + PRUNE_INTERVAL_MS));
    }
    const due = times.length > 0 ? Math.min(...times) : null;
    if (this.alarmTime.aim(due)) this.store.saveAlarmAt(due);
  }

  private unknownSubscription<T>(id: string): Result<T> {
    return fail("not_found", `no subscription ${id} on topic ${this.topic}`);
  }
}
