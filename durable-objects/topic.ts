/**
 * One object per topic: the event log (per-topic `seq`, retained for replay), webhook subscriptions
 * with a pending delivery per event and subscription, and hibernatable WebSocket subscribers.
 * The rules live in `logic/` (filters, dispatch order, retry schedule, backpressure, URL rules);
 * this class stores rows, starts webhook attempts and keeps one alarm at the earliest due time, so
 * delivery goes on with nobody calling.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { fail, ok, type Result } from "../shared/errors.ts";
import type { BackoffPolicy } from "../shared/resilience/backoff.ts";
import {
  type BusEventValue,
  DEFAULT_TOPIC_CONFIG,
  type DeadLetterValue,
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
} from "../shared/schemas/bus.ts";
import { MAX_VALUE_BYTES, valueBytes } from "../shared/schemas/common.ts";
import { generateSecret, importSecret } from "../shared/webhook-signature.ts";
import { migrate, Sql, startUp } from "./lib/sql.ts";
import { sendWebhook } from "./lib/webhook-sender.ts";
import { admit } from "./logic/backpressure.ts";
import {
  type DueDelivery,
  deliveryKey,
  dispatchRank,
  type Priority,
  planDispatch,
} from "./logic/dispatch-order.ts";
import { matchesFilter } from "./logic/filter.ts";
import { afterFailure, shouldPause } from "./logic/retry-schedule.ts";
import { webhookUrlProblem } from "./logic/webhook-url.ts";

const SCHEMA = [
  `CREATE TABLE topic_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     name TEXT,
     next_seq INTEGER NOT NULL,
     published INTEGER NOT NULL,
     delivered INTEGER NOT NULL,
     failed INTEGER NOT NULL,
     rejected INTEGER NOT NULL,
     alarm_at INTEGER,
     pruned_at INTEGER NOT NULL,
     config TEXT NOT NULL
   );
   INSERT INTO topic_meta VALUES (1, NULL, 1, 0, 0, 0, 0, NULL, 0, '{}');
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     type TEXT NOT NULL,
     priority TEXT NOT NULL,
     critical INTEGER NOT NULL,
     published_at INTEGER NOT NULL,
     data TEXT NOT NULL
   );
   CREATE TABLE subscriptions (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     filter TEXT NOT NULL,
     max_attempts INTEGER NOT NULL,
     initial_delay_ms INTEGER NOT NULL,
     max_delay_ms INTEGER NOT NULL,
     timeout_ms INTEGER NOT NULL,
     secret TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     paused INTEGER NOT NULL DEFAULT 0,
     consecutive_dead INTEGER NOT NULL DEFAULT 0,
     last_seq_delivered INTEGER NOT NULL DEFAULT 0,
     dead_letters INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE deliveries (
     sub_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     rank INTEGER NOT NULL,
     critical INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER NOT NULL,
     in_flight INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     PRIMARY KEY (sub_id, seq)
   );
   CREATE INDEX deliveries_due ON deliveries (due_at);
   CREATE INDEX deliveries_seq ON deliveries (seq);
   CREATE TABLE dead_letters (
     sub_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     event TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     last_error TEXT NOT NULL,
     dead_at INTEGER NOT NULL,
     PRIMARY KEY (sub_id, seq)
   );
   CREATE TABLE socket_unacked (
     seq INTEGER NOT NULL,
     socket_id TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     PRIMARY KEY (seq, socket_id)
   );`,
] as const;

/** A critical event sent to a WebSocket is sent again after this long without an ack. */
export const ACK_TIMEOUT_MS = 10_000;

/** Most subscriptions per topic (each event becomes one delivery per matching subscription). */
export const MAX_SUBSCRIPTIONS = 100;

/** Extra time past a webhook's own timeout before an attempt that never reported is retried. */
const LEASE_SLACK_MS = 5_000;

/** Time-based pruning runs at most this often. */
const PRUNE_INTERVAL_MS = 60_000;

/** Rows read per page when replaying or scanning with a filter. */
const PAGE = 500;

const PAUSED_ERROR = "subscription paused";

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  type: string;
  priority: string;
  critical: number;
  published_at: number;
  data: string;
}

interface SubscriptionRow extends Record<string, SqlStorageValue> {
  id: string;
  url: string;
  filter: string;
  max_attempts: number;
  initial_delay_ms: number;
  max_delay_ms: number;
  timeout_ms: number;
  secret: string;
  created_at: number;
  paused: number;
  consecutive_dead: number;
}

interface DeliveryRow extends Record<string, SqlStorageValue> {
  sub_id: string;
  seq: number;
  rank: number;
  critical: number;
  attempts: number;
}

interface MetaRow extends Record<string, SqlStorageValue> {
  name: string | null;
  next_seq: number;
  published: number;
  delivered: number;
  failed: number;
  rejected: number;
  alarm_at: number | null;
  pruned_at: number;
  config: string;
}

/** A webhook subscription as the dispatcher uses it. */
interface Subscriber {
  id: string;
  url: string;
  filter: string[];
  maxAttempts: number;
  policy: BackoffPolicy;
  timeoutMs: number;
  secret: string;
  createdAt: number;
  paused: boolean;
  consecutiveDead: number;
  key?: Promise<CryptoKey | undefined>;
}

/** What each hibernatable socket carries across hibernation. */
interface SocketAttachment {
  id: string;
  filter: string[];
}

const toSubscriber = (r: SubscriptionRow): Subscriber => ({
  id: r.id,
  url: r.url,
  filter: JSON.parse(r.filter) as string[],
  maxAttempts: r.max_attempts,
  policy: {
    kind: "exponential",
    initialDelayMs: r.initial_delay_ms,
    maxDelayMs: r.max_delay_ms,
    jitter: "equal",
  },
  timeoutMs: r.timeout_ms,
  secret: r.secret,
  createdAt: r.created_at,
  paused: r.paused === 1,
  consecutiveDead: r.consecutive_dead,
});

const subscriptionInfo = (s: Subscriber): SubscriptionInfo => ({
  id: s.id,
  url: s.url,
  filter: s.filter,
  maxAttempts: s.maxAttempts,
  retry: { initialDelayMs: s.policy.initialDelayMs, maxDelayMs: s.policy.maxDelayMs },
  timeoutMs: s.timeoutMs,
  paused: s.paused,
  createdAt: s.createdAt,
});

const randomId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;

export class TopicObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly ready: Promise<void>;
  private topic = "";
  private config: TopicConfigValue = DEFAULT_TOPIC_CONFIG;
  private subscribers = new Map<string, Subscriber>();
  /** Pending deliveries (the backpressure measure), kept in step with the `deliveries` table. */
  private undelivered = 0;
  private retained = 0;
  /** When the alarm is set for, as last written; the alarm treats that instant as "now". */
  private alarmAt: number | null = null;
  /** Deliveries being attempted, by key, with the time their lease runs out. */
  private readonly inFlight = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.ready = startUp(ctx, () => {
      migrate(this.sql, SCHEMA);
      this.load();
      this.commit();
    });
    // Keep-alives are answered by the runtime without waking a hibernating object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** Appends events (one or a batch) and queues a delivery per matching webhook subscription. */
  async publish(topic: string, input: PublishInput): Promise<Result<PublishResult>> {
    await this.ready;
    this.name(topic);
    const events = eventsOf(input);
    const tooLarge = events.findIndex((e) => valueBytes(e.data) > MAX_VALUE_BYTES);
    if (tooLarge >= 0) {
      return fail("payload_too_large", `the data of event ${tooLarge} is over ${MAX_VALUE_BYTES} bytes`, {
        field: input.events ? `events.${tooLarge}.data` : "data",
        limit: MAX_VALUE_BYTES,
      });
    }
    const now = Date.now();
    const critical = events.map((e) => e.critical || e.priority === "critical");
    const admission = admit({
      undelivered: this.undelivered,
      limit: this.config.maxUndelivered,
      allCritical: critical.every(Boolean),
      nextDueInMs: this.nextDeliveryDue() - now,
    });
    if (!admission.accept) {
      this.sql.run("UPDATE topic_meta SET rejected = rejected + ?", events.length);
      return fail("backpressure", `topic ${topic} has ${this.undelivered} undelivered events`, {
        retryAfterSeconds: admission.retryAfterSeconds,
        undelivered: this.undelivered,
        limit: this.config.maxUndelivered,
      });
    }
    const meta = this.meta();
    const ids: string[] = [];
    const seqs: number[] = [];
    events.forEach((e, i) => {
      const row: EventRow = {
        seq: meta.next_seq + i,
        id: randomId("evt"),
        type: e.type,
        priority: e.priority,
        critical: critical[i] ? 1 : 0,
        published_at: now,
        data: JSON.stringify(e.data ?? null),
      };
      this.append(row, now);
      ids.push(row.id);
      seqs.push(row.seq);
    });
    this.sql.run(
      "UPDATE topic_meta SET next_seq = next_seq + ?, published = published + ?",
      events.length,
      events.length,
    );
    if (this.retained > this.config.maxRetained) this.prune(now);
    this.pump(now);
    this.commit();
    return ok({ ids, seqs });
  }

  /** Registers a webhook; the secret is returned here and never again. */
  async createSubscription(
    topic: string,
    input: SubscriptionInput,
  ): Promise<Result<{ id: string; secret: string }>> {
    await this.ready;
    this.name(topic);
    const allowInsecure = this.env.ALLOW_INSECURE_WEBHOOKS === "true";
    const problem = webhookUrlProblem(input.url, { allowInsecure });
    if (problem) return fail("invalid_request", `url: ${problem}`, { field: "url" });
    const retry = input.retry ?? { initialDelayMs: 5_000, maxDelayMs: 3_600_000 };
    if (retry.maxDelayMs < retry.initialDelayMs) {
      return fail("invalid_request", "retry.maxDelayMs: must be at least retry.initialDelayMs", {
        field: "retry.maxDelayMs",
      });
    }
    if (this.subscribers.size >= MAX_SUBSCRIPTIONS) {
      return fail("conflict", `topic ${topic} already has ${MAX_SUBSCRIPTIONS} subscriptions`, {
        limit: MAX_SUBSCRIPTIONS,
      });
    }
    const row: SubscriptionRow = {
      id: randomId("sub"),
      url: input.url,
      filter: JSON.stringify(input.filter ?? []),
      max_attempts: input.maxAttempts,
      initial_delay_ms: retry.initialDelayMs,
      max_delay_ms: retry.maxDelayMs,
      timeout_ms: input.timeoutMs,
      secret: generateSecret(),
      created_at: Date.now(),
      paused: 0,
      consecutive_dead: 0,
    };
    this.sql.run(
      `INSERT INTO subscriptions (id, url, filter, max_attempts, initial_delay_ms, max_delay_ms, timeout_ms,
         secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.url,
      row.filter,
      row.max_attempts,
      row.initial_delay_ms,
      row.max_delay_ms,
      row.timeout_ms,
      row.secret,
      row.created_at,
    );
    this.subscribers.set(row.id, toSubscriber(row));
    return ok({ id: row.id, secret: row.secret });
  }

  /** Every webhook subscription, oldest first, without secrets. */
  async listSubscriptions(): Promise<SubscriptionInfo[]> {
    await this.ready;
    return [...this.subscribers.values()].map(subscriptionInfo);
  }

  /** Removes a subscription with its pending deliveries and dead letters. */
  async deleteSubscription(id: string): Promise<Result<{ deleted: true }>> {
    await this.ready;
    if (!this.subscribers.delete(id)) return this.unknownSubscription(id);
    this.undelivered -= this.sql.run("DELETE FROM deliveries WHERE sub_id = ?", id);
    this.sql.run("DELETE FROM dead_letters WHERE sub_id = ?", id);
    this.sql.run("DELETE FROM subscriptions WHERE id = ?", id);
    this.commit();
    return ok({ deleted: true });
  }

  /** Takes a paused subscription back into service. */
  async resumeSubscription(id: string): Promise<Result<SubscriptionInfo>> {
    await this.ready;
    const sub = this.subscribers.get(id);
    if (!sub) return this.unknownSubscription(id);
    this.setPaused(sub, false);
    return ok(subscriptionInfo(sub));
  }

  /** A subscription's dead letters, oldest first. */
  async deadLetters(id: string, limit: number): Promise<Result<{ deadLetters: DeadLetterValue[] }>> {
    await this.ready;
    if (!this.subscribers.has(id)) return this.unknownSubscription(id);
    const rows = this.sql.all<{ event: string; attempts: number; last_error: string; dead_at: number }>(
      "SELECT event, attempts, last_error, dead_at FROM dead_letters WHERE sub_id = ? ORDER BY seq LIMIT ?",
      id,
      limit,
    );
    return ok({
      deadLetters: rows.map((r) => ({
        event: JSON.parse(r.event) as BusEventValue,
        attempts: r.attempts,
        lastError: r.last_error,
        deadAt: r.dead_at,
      })),
    });
  }

  /** Retained events from `fromSeq` on, for pull consumers. */
  async events(topic: string, query: EventsQueryInput): Promise<EventsPageValue> {
    await this.ready;
    this.name(topic);
    const filter = splitFilter(query.filter);
    const events: BusEventValue[] = [];
    let next = query.fromSeq;
    // With a filter, scan a bounded number of rows so one call stays cheap; `nextSeq` resumes.
    let budget = query.limit * 10;
    while (events.length < query.limit && budget > 0) {
      const rows = this.sql.all<EventRow>(
        "SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT ?",
        next,
        Math.min(PAGE, budget),
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        budget--;
        next = row.seq + 1;
        if (matchesFilter(filter, row.type)) events.push(this.toEvent(row));
        if (events.length === query.limit) break;
      }
    }
    // Nothing at or after fromSeq: the next event published (or fromSeq, if that is later).
    const nextSeq = next === query.fromSeq ? Math.max(next, this.meta().next_seq) : next;
    return { events, nextSeq };
  }

  /** The counters of the contract's stats. */
  async stats(): Promise<TopicStatsValue> {
    await this.ready;
    const meta = this.meta();
    const subscriptions = this.sql.all<{
      id: string;
      last_seq_delivered: number;
      dead_letters: number;
      pending: number;
    }>(
      `SELECT s.id, s.last_seq_delivered, s.dead_letters,
         (SELECT COUNT(*) FROM deliveries d WHERE d.sub_id = s.id) AS pending
       FROM subscriptions s ORDER BY s.created_at, s.id`,
    );
    return {
      published: meta.published,
      delivered: meta.delivered,
      failed: meta.failed,
      rejected: meta.rejected,
      pending: this.undelivered,
      subscriptions: subscriptions.map((s) => ({
        id: s.id,
        pending: s.pending,
        lastSeqDelivered: s.last_seq_delivered,
        deadLetters: s.dead_letters,
      })),
    };
  }

  /** The topic's settings. */
  async getConfig(): Promise<TopicConfigValue> {
    await this.ready;
    return this.config;
  }

  /** Changes some settings; the rest stay. */
  async setConfig(topic: string, patch: TopicConfigPatchValue): Promise<TopicConfigValue> {
    await this.ready;
    this.name(topic);
    this.config = { ...this.config, ...patch };
    this.sql.run("UPDATE topic_meta SET config = ?", JSON.stringify(this.config));
    const now = Date.now();
    this.prune(now);
    this.pump(now);
    this.commit();
    return this.config;
  }

  /**
   * A WebSocket subscriber (the Worker has validated the query and the upgrade): accepted for
   * hibernation, replays from `fromSeq` if given, then receives events as they are published.
   */
  override async fetch(request: Request): Promise<Response> {
    await this.ready;
    const url = new URL(request.url);
    this.name(url.searchParams.get("topic") ?? this.topic);
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const attachment: SocketAttachment = {
      id: crypto.randomUUID(),
      filter: splitFilter(url.searchParams.get("filter") ?? undefined),
    };
    this.ctx.acceptWebSocket(server, [attachment.id]);
    server.serializeAttachment(attachment);
    const fromSeq = url.searchParams.get("fromSeq");
    if (fromSeq !== null) this.replay(server, attachment, Number(fromSeq), Date.now());
    this.commit();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** `{"type": "ack", "seq"}` settles a critical event; anything else is ignored. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.ready;
    const socket = this.attachment(ws);
    if (!socket || typeof message !== "string") return;
    try {
      const parsed = JSON.parse(message) as { type?: unknown; seq?: unknown };
      if (parsed.type === "ack" && Number.isSafeInteger(parsed.seq)) {
        this.sql.run(
          "DELETE FROM socket_unacked WHERE socket_id = ? AND seq = ?",
          socket.id,
          parsed.seq as number,
        );
        this.commit();
      }
    } catch (err) {
      console.warn("topic: ignoring a WebSocket message that is not JSON", err);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.ready;
    try {
      this.forgetSocket(ws);
    } finally {
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        // Already closed by the runtime's automatic close reply.
      }
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.ready;
    console.warn("topic: WebSocket error", error);
    this.forgetSocket(ws);
  }

  /**
   * Processes what is due by the time the alarm was set for (see the lock object): prunes old
   * events, re-sends unacknowledged critical events to sockets, starts due webhook attempts and
   * waits for them, so the runtime keeps the object alive while they run. Idempotent.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = Math.max(Date.now(), this.alarmAt ?? 0);
    this.alarmAt = null;
    if (now >= this.meta().pruned_at + PRUNE_INTERVAL_MS) this.prune(now);
    this.resendUnacked(now);
    const started = this.pump(now);
    this.commit();
    await Promise.allSettled(started);
  }

  private load(): void {
    const meta = this.meta();
    this.topic = meta.name ?? "";
    this.config = TopicConfig.parse({ ...DEFAULT_TOPIC_CONFIG, ...(JSON.parse(meta.config) as object) });
    this.alarmAt = meta.alarm_at;
    this.subscribers = new Map(
      this.sql
        .all<SubscriptionRow>("SELECT * FROM subscriptions ORDER BY created_at, id")
        .map((r) => [r.id, toSubscriber(r)]),
    );
    // Attempts cut short by a restart are made again at once rather than when their lease ends.
    this.sql.run("UPDATE deliveries SET in_flight = 0, due_at = ? WHERE in_flight = 1", Date.now());
    this.undelivered = this.count("deliveries");
    this.retained = this.count("events");
  }

  private count(table: "deliveries" | "events"): number {
    return this.sql.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)?.n ?? 0;
  }

  private meta(): MetaRow {
    return this.sql.one<MetaRow>("SELECT * FROM topic_meta") as MetaRow;
  }

  /** Remembers the topic's name, which alarm-driven deliveries put in every event body. */
  private name(topic: string): void {
    if (topic === this.topic || topic === "") return;
    this.topic = topic;
    this.sql.run("UPDATE topic_meta SET name = ?", topic);
  }

  private toEvent(row: EventRow): BusEventValue {
    return {
      id: row.id,
      topic: this.topic,
      type: row.type,
      data: JSON.parse(row.data),
      seq: row.seq,
      priority: row.priority as Priority,
      critical: row.critical === 1,
      publishedAt: row.published_at,
    };
  }

  /** Stores one event, queues its webhook deliveries and sends it to matching sockets. */
  private append(row: EventRow, now: number): void {
    this.sql.run(
      "INSERT INTO events (seq, id, type, priority, critical, published_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
      row.seq,
      row.id,
      row.type,
      row.priority,
      row.critical,
      row.published_at,
      row.data,
    );
    this.retained++;
    const critical = row.critical === 1;
    const rank = dispatchRank(row.priority as Priority, critical);
    for (const sub of this.subscribers.values()) {
      if (!matchesFilter(sub.filter, row.type)) continue;
      if (sub.paused && !critical) {
        this.deadLetter(sub, row, 0, PAUSED_ERROR, now);
        continue;
      }
      this.sql.run(
        "INSERT INTO deliveries (sub_id, seq, rank, critical, due_at) VALUES (?, ?, ?, ?, ?)",
        sub.id,
        row.seq,
        rank,
        row.critical,
        now,
      );
      this.undelivered++;
    }
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const message = this.eventMessage(row);
    for (const ws of sockets) {
      const socket = this.attachment(ws);
      if (socket && matchesFilter(socket.filter, row.type)) this.sendToSocket(ws, socket, row, message, now);
    }
  }

  private eventMessage(row: EventRow): string {
    return JSON.stringify({ type: "event", event: this.toEvent(row) });
  }

  private sendToSocket(
    ws: WebSocket,
    socket: SocketAttachment,
    row: EventRow,
    message: string,
    now: number,
  ): void {
    try {
      ws.send(message);
    } catch (err) {
      console.warn("topic: WebSocket send failed", err);
      return;
    }
    if (row.critical === 1) {
      this.sql.run(
        `INSERT INTO socket_unacked (seq, socket_id, due_at) VALUES (?, ?, ?)
         ON CONFLICT (seq, socket_id) DO UPDATE SET due_at = excluded.due_at`,
        row.seq,
        socket.id,
        now + ACK_TIMEOUT_MS,
      );
    }
  }

  /** Sends retained events from `fromSeq` on to a new socket, in seq order. */
  private replay(ws: WebSocket, socket: SocketAttachment, fromSeq: number, now: number): void {
    let next = fromSeq;
    for (;;) {
      const rows = this.sql.all<EventRow>(
        "SELECT * FROM events WHERE seq >= ? ORDER BY seq LIMIT ?",
        next,
        PAGE,
      );
      for (const row of rows) {
        if (matchesFilter(socket.filter, row.type))
          this.sendToSocket(ws, socket, row, this.eventMessage(row), now);
      }
      if (rows.length < PAGE) return;
      next = (rows[rows.length - 1] as EventRow).seq + 1;
    }
  }

  private resendUnacked(now: number): void {
    const due = this.sql.all<{ seq: number; socket_id: string }>(
      "SELECT seq, socket_id FROM socket_unacked WHERE due_at <= ? ORDER BY seq LIMIT ?",
      now,
      PAGE,
    );
    if (due.length === 0) return;
    const open = new Map<string, WebSocket>();
    for (const ws of this.ctx.getWebSockets()) {
      const socket = this.attachment(ws);
      if (socket) open.set(socket.id, ws);
    }
    for (const { seq, socket_id } of due) {
      const ws = open.get(socket_id);
      const row = this.sql.one<EventRow>("SELECT * FROM events WHERE seq = ?", seq);
      if (!ws || !row) {
        this.sql.run("DELETE FROM socket_unacked WHERE seq = ? AND socket_id = ?", seq, socket_id);
        continue;
      }
      this.sendToSocket(ws, { id: socket_id, filter: [] }, row, this.eventMessage(row), now);
    }
  }

  private attachment(ws: WebSocket): SocketAttachment | undefined {
    const value = ws.deserializeAttachment() as SocketAttachment | null;
    return value && typeof value.id === "string" ? value : undefined;
  }

  private forgetSocket(ws: WebSocket): void {
    const socket = this.attachment(ws);
    if (!socket) return;
    this.sql.run("DELETE FROM socket_unacked WHERE socket_id = ?", socket.id);
    this.commit();
  }

  /** Starts due webhook attempts in dispatch order, up to the topic's in-flight limit. */
  private pump(now: number): Promise<void>[] {
    const slots = this.config.maxInFlight - this.inFlight.size;
    if (slots <= 0) return [];
    const due = this.sql
      .all<DeliveryRow>(
        `SELECT sub_id, seq, rank, critical, attempts FROM deliveries WHERE due_at <= ?
         ORDER BY rank, seq LIMIT ?`,
        now,
        slots + this.inFlight.size,
      )
      .map((r) => ({ subscriptionId: r.sub_id, seq: r.seq, rank: r.rank, row: r }));
    return planDispatch(due, slots, new Set(this.inFlight.keys())).map((d) => this.start(d, now));
  }

  private start(d: DueDelivery & { row: DeliveryRow }, now: number): Promise<void> {
    const sub = this.subscribers.get(d.subscriptionId) as Subscriber;
    const event = this.sql.one<EventRow>("SELECT * FROM events WHERE seq = ?", d.seq) as EventRow;
    const key = deliveryKey(d);
    // A lease: should this attempt never report, the row comes due again (at once after a restart).
    const leaseEnd = now + sub.timeoutMs + LEASE_SLACK_MS;
    this.sql.run(
      "UPDATE deliveries SET due_at = ?, in_flight = 1 WHERE sub_id = ? AND seq = ?",
      leaseEnd,
      sub.id,
      d.seq,
    );
    this.inFlight.set(key, leaseEnd);
    return this.attempt(sub, event, d.row)
      .catch((err) => console.error("topic: recording a webhook attempt failed", err))
      .finally(() => {
        this.inFlight.delete(key);
        this.pump(Date.now());
        this.commit();
      });
  }

  private async attempt(sub: Subscriber, event: EventRow, delivery: DeliveryRow): Promise<void> {
    sub.key ??= importSecret(sub.secret);
    const key = await sub.key;
    const outcome = key
      ? await sendWebhook({
          url: sub.url,
          key,
          id: event.id,
          body: JSON.stringify(this.toEvent(event)),
          timeoutMs: sub.timeoutMs,
        })
      : { ok: false as const, error: "the subscription's secret is unreadable" };
    // The subscription may have been deleted while the request ran.
    if (this.subscribers.get(sub.id) !== sub) return;
    const now = Date.now();
    if (outcome.ok) {
      this.undelivered -= this.sql.run(
        "DELETE FROM deliveries WHERE sub_id = ? AND seq = ?",
        sub.id,
        event.seq,
      );
      this.sql.run(
        `UPDATE subscriptions SET last_seq_delivered = MAX(last_seq_delivered, ?), consecutive_dead = 0 WHERE id = ?`,
        event.seq,
        sub.id,
      );
      this.sql.run("UPDATE topic_meta SET delivered = delivered + 1");
      sub.consecutiveDead = 0;
      if (sub.paused) this.setPaused(sub, false);
      return;
    }
    const attempts = delivery.attempts + 1;
    const decision = afterFailure({
      attempts,
      maxAttempts: sub.maxAttempts,
      critical: delivery.critical === 1,
      paused: sub.paused,
      policy: sub.policy,
      now,
      random: Math.random,
    });
    if (decision.kind === "retry") {
      this.sql.run(
        "UPDATE deliveries SET attempts = ?, due_at = ?, in_flight = 0, last_error = ? WHERE sub_id = ? AND seq = ?",
        attempts,
        decision.dueAt,
        outcome.error,
        sub.id,
        event.seq,
      );
      return;
    }
    this.undelivered -= this.sql.run(
      "DELETE FROM deliveries WHERE sub_id = ? AND seq = ?",
      sub.id,
      event.seq,
    );
    this.deadLetter(sub, event, attempts, outcome.error, now);
    if (!sub.paused && shouldPause(sub.consecutiveDead)) this.setPaused(sub, true);
  }

  /** Gives up on one event for one subscription: it is kept, with why, in the dead letters. */
  private deadLetter(sub: Subscriber, event: EventRow, attempts: number, error: string, now: number): void {
    this.sql.run(
      `INSERT INTO dead_letters (sub_id, seq, event, attempts, last_error, dead_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (sub_id, seq) DO NOTHING`,
      sub.id,
      event.seq,
      JSON.stringify(this.toEvent(event)),
      attempts,
      error,
      now,
    );
    sub.consecutiveDead++;
    this.sql.run(
      "UPDATE subscriptions SET dead_letters = dead_letters + 1, consecutive_dead = ? WHERE id = ?",
      sub.consecutiveDead,
      sub.id,
    );
    this.sql.run("UPDATE topic_meta SET failed = failed + 1");
  }

  /**
   * Pausing moves the subscription's pending non-critical deliveries (those not in flight) to its
   * dead letters; critical ones stay and keep being retried. Resuming clears the failure count.
   */
  private setPaused(sub: Subscriber, paused: boolean): void {
    sub.paused = paused;
    if (!paused) sub.consecutiveDead = 0;
    this.sql.run(
      "UPDATE subscriptions SET paused = ?, consecutive_dead = ? WHERE id = ?",
      paused ? 1 : 0,
      sub.consecutiveDead,
      sub.id,
    );
    if (!paused) return;
    const pending = this.sql.all<DeliveryRow & { last_error: string | null }>(
      "SELECT sub_id, seq, rank, critical, attempts, last_error FROM deliveries WHERE sub_id = ? AND critical = 0",
      sub.id,
    );
    const now = Date.now();
    for (const d of pending) {
      if (this.inFlight.has(deliveryKey({ subscriptionId: d.sub_id, seq: d.seq, rank: d.rank }))) continue;
      const event = this.sql.one<EventRow>("SELECT * FROM events WHERE seq = ?", d.seq) as EventRow;
      this.undelivered -= this.sql.run("DELETE FROM deliveries WHERE sub_id = ? AND seq = ?", sub.id, d.seq);
      this.deadLetter(sub, event, d.attempts, d.last_error ?? PAUSED_ERROR, now);
    }
  }

  /**
   * Drops events past the retention time, then the oldest past the retained count, except those a
   * webhook or a socket still has to receive: an accepted event is never lost before delivery.
   */
  private prune(now: number): void {
    const unpinned = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = e.seq)
       AND NOT EXISTS (SELECT 1 FROM socket_unacked u WHERE u.seq = e.seq)`;
    this.retained -= this.sql.run(
      `DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE published_at <= ? AND ${unpinned})`,
      now - this.config.retentionMs,
    );
    const excess = this.retained - this.config.maxRetained;
    if (excess > 0) {
      this.retained -= this.sql.run(
        `DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE ${unpinned} ORDER BY seq LIMIT ?)`,
        excess,
      );
    }
    this.sql.run("UPDATE topic_meta SET pruned_at = ?", now);
  }

  private nextDeliveryDue(): number {
    return (
      this.sql.one<{ due: number | null }>("SELECT MIN(due_at) AS due FROM deliveries")?.due ?? Date.now()
    );
  }

  /**
   * Points the alarm at the earliest due time: a delivery or an unacked socket event, or the next
   * pruning. While every in-flight slot is taken, due deliveries wait for a slot (each finished
   * attempt starts the next), so the alarm is only a watchdog at the earliest lease end.
   */
  private commit(): void {
    const times: number[] = [];
    let deliveries =
      this.sql.one<{ due: number | null }>("SELECT MIN(due_at) AS due FROM deliveries")?.due ?? null;
    if (deliveries !== null && this.inFlight.size >= this.config.maxInFlight) {
      deliveries = Math.max(deliveries, Math.min(...this.inFlight.values()));
    }
    if (deliveries !== null) times.push(deliveries);
    const unacked = this.sql.one<{ due: number | null }>(
      "SELECT MIN(due_at) AS due FROM socket_unacked",
    )?.due;
    if (unacked != null) times.push(unacked);
    // Events are stored in publish order, so the lowest seq is the oldest (an index lookup, not a scan).
    const oldest = this.sql.one<{ at: number }>(
      "SELECT published_at AS at FROM events ORDER BY seq LIMIT 1",
    )?.at;
    if (oldest != null) {
      times.push(Math.max(oldest + this.config.retentionMs, this.meta().pruned_at + PRUNE_INTERVAL_MS));
    }
    const due = times.length > 0 ? Math.min(...times) : null;
    if (due !== this.alarmAt) {
      if (due === null) void this.ctx.storage.deleteAlarm();
      else void this.ctx.storage.setAlarm(due);
      this.alarmAt = due;
      this.sql.run("UPDATE topic_meta SET alarm_at = ?", due);
    }
  }

  private unknownSubscription<T>(id: string): Result<T> {
    return fail("not_found", `no subscription ${id} on topic ${this.topic}`);
  }
}
