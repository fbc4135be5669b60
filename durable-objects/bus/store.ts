/**
 * The rows of one topic: the schema and every statement the topic object runs, with the mapping
 * from rows to the values the rest of the bus works with.
 */
import type { BackoffPolicy } from "../../shared/resilience/backoff.ts";
import type { BusEventValue, RedisTargetValue } from "../../shared/schemas/bus.ts";
import { PRIORITIES, type Priority } from "../../shared/schemas/priority.ts";
import type { Sql } from "../lib/sql.ts";
import { dispatchRank } from "../logic/dispatch-order.ts";
import { type HealthSnapshot, ReceiverHealth } from "../logic/receiver-health.ts";
import { type CountedTries, DEFAULT_WEBHOOK_BACKOFF } from "../logic/retry-schedule.ts";

/** The topic's schema, by version (see `migrate`). */
export const TOPIC_SCHEMA = [
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
  // A Redis target (JSON of the subscription's `redis` object) instead of a webhook URL; its
  // `url` and `secret` are then empty.
  "ALTER TABLE subscriptions ADD COLUMN redis TEXT",
  // Receiver health per subscription; each delivery's size (the storage ceiling); indexes that let
  // dispatch read only the deliveries it sends, one subscription at a time (issue 17).
  `ALTER TABLE subscriptions ADD COLUMN health TEXT;
   ALTER TABLE deliveries ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE deliveries SET bytes = coalesce((SELECT octet_length(e.data) FROM events e WHERE e.seq = deliveries.seq), 0);
   DROP INDEX deliveries_due;
   CREATE INDEX deliveries_order ON deliveries (sub_id, rank, seq);
   CREATE INDEX deliveries_sub_due ON deliveries (sub_id, due_at);`,
  // Down signals a delivery met that did not count toward maxAttempts (logic/retry-schedule.ts).
  "ALTER TABLE deliveries ADD COLUMN down_tries INTEGER NOT NULL DEFAULT 0",
] as const;

/**
 * A subscription's due deliveries in dispatch order (`sub_id`, `now`, `limit`): the walk of its
 * `(rank, seq)` index stops at `limit` due rows. Exported for the test that counts its reads.
 */
export const DUE_DELIVERIES_SQL = `SELECT sub_id, seq, rank, critical, attempts, down_tries FROM deliveries
  INDEXED BY deliveries_order WHERE sub_id = ? AND due_at <= ? ORDER BY rank, seq LIMIT ?`;

/** Rows read per page when replaying or scanning events. */
export const EVENT_PAGE = 500;

/** A stored event. */
export interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  type: string;
  priority: string;
  critical: number;
  published_at: number;
  data: string;
}

/** An event without its data, with the data's size in bytes. */
export interface EventHead extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  bytes: number;
}

/** A stored webhook subscription (without its counters). */
export interface SubscriptionRow extends Record<string, SqlStorageValue> {
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
  /** JSON of a Redis target; null for a webhook. */
  redis: string | null;
  /** The receiver's {@link HealthSnapshot} as JSON; null for a receiver never seen down. */
  health: string | null;
}

/** What dispatching reads of a pending delivery. */
export interface DeliveryRow extends Record<string, SqlStorageValue> {
  sub_id: string;
  seq: number;
  rank: number;
  critical: number;
  /** Attempts that counted toward maxAttempts. */
  attempts: number;
  /** Down signals met that did not count. */
  down_tries: number;
}

/** The topic's one row of name, counters, settings and alarm. */
export interface MetaRow extends Record<string, SqlStorageValue> {
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

/** A dead letter as stored. */
export interface DeadLetterRow extends Record<string, SqlStorageValue> {
  event: string;
  attempts: number;
  last_error: string;
  dead_at: number;
}

/** A subscription's counters for the stats. */
export interface SubscriptionStatsRow extends Record<string, SqlStorageValue> {
  id: string;
  last_seq_delivered: number;
  dead_letters: number;
  pending: number;
}

/** A webhook subscription as the dispatcher uses it. */
export interface Subscriber {
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
  /** A Redis target instead of the webhook `url`. */
  redis?: RedisTargetValue;
  /** Whether its receiver is up, and when to probe it while it is down. */
  health: ReceiverHealth;
  /** The imported signing key, made once per subscriber on its first attempt. */
  key?: Promise<CryptoKey | undefined>;
}

/** A subscription row as a {@link Subscriber}. */
export const toSubscriber = (r: SubscriptionRow): Subscriber => ({
  id: r.id,
  url: r.url,
  filter: JSON.parse(r.filter) as string[],
  maxAttempts: r.max_attempts,
  // Only the delays are stored per subscription; the shape of the schedule is the default's.
  policy: { ...DEFAULT_WEBHOOK_BACKOFF, initialDelayMs: r.initial_delay_ms, maxDelayMs: r.max_delay_ms },
  timeoutMs: r.timeout_ms,
  secret: r.secret,
  createdAt: r.created_at,
  paused: r.paused === 1,
  consecutiveDead: r.consecutive_dead,
  ...(r.redis ? { redis: JSON.parse(r.redis) as RedisTargetValue } : {}),
  health: new ReceiverHealth(r.health === null ? null : (JSON.parse(r.health) as HealthSnapshot)),
});

/** An event row as receivers see it; `topic` is the topic's name. */
export const toEvent = (row: EventRow, topic: string): BusEventValue => ({
  id: row.id,
  topic,
  type: row.type,
  data: JSON.parse(row.data),
  seq: row.seq,
  priority: row.priority as Priority,
  critical: row.critical === 1,
  publishedAt: row.published_at,
});

/** An event no delivery and no unacked socket send still needs (`e` is the events table). */
const UNPINNED = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = e.seq)
       AND NOT EXISTS (SELECT 1 FROM socket_unacked u WHERE u.seq = e.seq)`;

/**
 * The dead letters of subscription `?` a redrive takes: those whose seq is in the JSON array `?`
 * (given twice), or all of them when it is null. `t` names the dead letters table in the statement.
 */
const chosen = (t: string) =>
  `${t}.sub_id = ? AND (? IS NULL OR ${t}.seq IN (SELECT value FROM json_each(?)))`;

/** The dispatch rank of each priority for a non-critical event, as a JSON object for SQL to look up. */
const RANK_OF_PRIORITY = JSON.stringify(
  Object.fromEntries(PRIORITIES.map((p) => [p, dispatchRank(p, false)])),
);

/** Pending deliveries taken away, and the bytes of event text they held. */
export interface Removed {
  n: number;
  bytes: number;
}

/** What a redrive did. */
export interface Redrive {
  /** Dead letters that became pending deliveries. */
  redriven: number;
  /** The bytes of event text they hold. */
  bytes: number;
  /** Events put back into the log from their dead letters' copies, having been pruned meanwhile. */
  restored: number;
}

/** Every statement the topic object runs. */
export class TopicStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  meta(): MetaRow {
    return this.sql.one<MetaRow>("SELECT * FROM topic_meta") as MetaRow;
  }

  saveName(name: string): void {
    this.sql.run("UPDATE topic_meta SET name = ?", name);
  }

  saveConfig(config: object): void {
    this.sql.run("UPDATE topic_meta SET config = ?", JSON.stringify(config));
  }

  saveAlarmAt(alarmAt: number | null): void {
    this.sql.run("UPDATE topic_meta SET alarm_at = ?", alarmAt);
  }

  savePrunedAt(now: number): void {
    this.sql.run("UPDATE topic_meta SET pruned_at = ?", now);
  }

  countRejected(events: number): void {
    this.sql.run("UPDATE topic_meta SET rejected = rejected + ?", events);
  }

  /** Moves `next_seq` past `events` just appended and counts them as published. */
  countPublished(events: number): void {
    this.sql.run("UPDATE topic_meta SET next_seq = next_seq + ?, published = published + ?", events, events);
  }

  countDelivered(): void {
    this.sql.run("UPDATE topic_meta SET delivered = delivered + 1");
  }

  count(table: "deliveries" | "events"): number {
    return this.sql.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)?.n ?? 0;
  }

  /** Pending deliveries and the bytes of event text they hold (once, at start-up). */
  pendingTotals(): Removed {
    const row = this.sql.one<{ n: number; bytes: number | null }>(
      "SELECT COUNT(*) AS n, SUM(bytes) AS bytes FROM deliveries",
    );
    return { n: row?.n ?? 0, bytes: row?.bytes ?? 0 };
  }

  // Events

  insertEvent(row: EventRow): void {
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
  }

  event(seq: number): EventRow | undefined {
    return this.sql.one<EventRow>("SELECT * FROM events WHERE seq = ?", seq);
  }

  /**
   * Up to `limit` events from `fromSeq` on, in seq order, without their data: what a page needs
   * to choose its events before reading them. `octet_length` reads a value's size from the record
   * header, not the value.
   */
  eventHeads(fromSeq: number, limit: number): EventHead[] {
    return this.sql.all<EventHead>(
      "SELECT seq, type, octet_length(data) AS bytes FROM events WHERE seq >= ? ORDER BY seq LIMIT ?",
      fromSeq,
      limit,
    );
  }

  /** The events with these seqs, in seq order. */
  eventsIn(seqs: readonly number[]): EventRow[] {
    if (seqs.length === 0) return [];
    return this.sql.all<EventRow>(
      "SELECT * FROM events WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq",
      JSON.stringify(seqs),
    );
  }

  /**
   * When the oldest retained event was published. Events are stored in publish order, so the
   * lowest seq is the oldest (an index lookup, not a scan).
   */
  oldestPublishedAt(): number | undefined {
    return this.sql.one<{ at: number }>("SELECT published_at AS at FROM events ORDER BY seq LIMIT 1")?.at;
  }

  /**
   * Deletes up to `limit` of the oldest events published at or before `before` that nobody still
   * has to receive. Events are stored in publish order, so the scan stops at the first newer one
   * instead of reading the whole log.
   */
  deletePublishedBefore(before: number, limit: number): number {
    return this.sql.count(
      `DELETE FROM events WHERE seq IN (SELECT seq FROM events e
         WHERE seq < coalesce((SELECT seq FROM events WHERE published_at > ? ORDER BY seq LIMIT 1), 9007199254740991)
           AND published_at <= ? AND ${UNPINNED} ORDER BY seq LIMIT ?)`,
      before,
      before,
      limit,
    );
  }

  /** Deletes the `excess` oldest events nobody still has to receive. Returns how many went. */
  deleteOldest(excess: number): number {
    return this.sql.count(
      `DELETE FROM events WHERE seq IN (SELECT seq FROM events e WHERE ${UNPINNED} ORDER BY seq LIMIT ?)`,
      excess,
    );
  }

  // Subscriptions

  /** Every subscription, oldest first. */
  subscriptions(): SubscriptionRow[] {
    return this.sql.all<SubscriptionRow>("SELECT * FROM subscriptions ORDER BY created_at, id");
  }

  insertSubscription(row: SubscriptionRow): void {
    this.sql.run(
      `INSERT INTO subscriptions (id, url, filter, max_attempts, initial_delay_ms, max_delay_ms, timeout_ms,
         secret, created_at, redis) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.url,
      row.filter,
      row.max_attempts,
      row.initial_delay_ms,
      row.max_delay_ms,
      row.timeout_ms,
      row.secret,
      row.created_at,
      row.redis,
    );
  }

  /** Deletes a subscription with its deliveries and dead letters; returns the deliveries that went. */
  deleteSubscription(id: string): Removed {
    const deliveries = this.sql.one<{ n: number; bytes: number | null }>(
      "SELECT COUNT(*) AS n, SUM(bytes) AS bytes FROM deliveries WHERE sub_id = ?",
      id,
    );
    this.sql.run("DELETE FROM deliveries WHERE sub_id = ?", id);
    this.sql.run("DELETE FROM dead_letters WHERE sub_id = ?", id);
    this.sql.run("DELETE FROM subscriptions WHERE id = ?", id);
    return { n: deliveries?.n ?? 0, bytes: deliveries?.bytes ?? 0 };
  }

  saveHealth(id: string, health: HealthSnapshot): void {
    this.sql.run("UPDATE subscriptions SET health = ? WHERE id = ?", JSON.stringify(health), id);
  }

  savePaused(id: string, paused: boolean, consecutiveDead: number): void {
    this.sql.run(
      "UPDATE subscriptions SET paused = ?, consecutive_dead = ? WHERE id = ?",
      paused ? 1 : 0,
      consecutiveDead,
      id,
    );
  }

  /** Records a success: the subscription's high-water mark, and no dead letters in a row. */
  saveDelivered(id: string, seq: number): void {
    this.sql.run(
      `UPDATE subscriptions SET last_seq_delivered = MAX(last_seq_delivered, ?), consecutive_dead = 0 WHERE id = ?`,
      seq,
      id,
    );
  }

  subscriptionStats(): SubscriptionStatsRow[] {
    return this.sql.all<SubscriptionStatsRow>(
      `SELECT s.id, s.last_seq_delivered, s.dead_letters,
         (SELECT COUNT(*) FROM deliveries d WHERE d.sub_id = s.id) AS pending
       FROM subscriptions s ORDER BY s.created_at, s.id`,
    );
  }

  // Deliveries

  insertDelivery(
    subId: string,
    seq: number,
    rank: number,
    critical: number,
    dueAt: number,
    bytes: number,
  ): void {
    this.sql.run(
      "INSERT INTO deliveries (sub_id, seq, rank, critical, due_at, bytes) VALUES (?, ?, ?, ?, ?, ?)",
      subId,
      seq,
      rank,
      critical,
      dueAt,
      bytes,
    );
  }

  /** Deletes one delivery; returns what went (nothing if it was not there). */
  deleteDelivery(subId: string, seq: number): Removed {
    const row = this.sql.one<{ bytes: number }>(
      "DELETE FROM deliveries WHERE sub_id = ? AND seq = ? RETURNING bytes",
      subId,
      seq,
    );
    return row ? { n: 1, bytes: row.bytes } : { n: 0, bytes: 0 };
  }

  /**
   * Up to `limit` of a subscription's deliveries due by `now`, in dispatch order. The scan walks
   * the subscription's `(rank, seq)` index and stops at `limit` due rows, so it reads what it
   * returns plus those waiting for a retry ahead of them, never the whole backlog.
   */
  dueDeliveries(subId: string, now: number, limit: number): DeliveryRow[] {
    return this.sql.all<DeliveryRow>(DUE_DELIVERIES_SQL, subId, now, limit);
  }

  /** A subscription's first delivery in dispatch order that is not in flight, due or not (a probe). */
  firstDelivery(subId: string): DeliveryRow | undefined {
    return this.sql.one<DeliveryRow>(
      `SELECT sub_id, seq, rank, critical, attempts, down_tries FROM deliveries INDEXED BY deliveries_order
       WHERE sub_id = ? AND in_flight = 0 ORDER BY rank, seq LIMIT 1`,
      subId,
    );
  }

  /** A subscription's pending non-critical deliveries. */
  nonCriticalDeliveries(subId: string): (DeliveryRow & { last_error: string | null })[] {
    return this.sql.all<DeliveryRow & { last_error: string | null }>(
      "SELECT sub_id, seq, rank, critical, attempts, down_tries, last_error FROM deliveries WHERE sub_id = ? AND critical = 0",
      subId,
    );
  }

  /** Marks a delivery in flight until `leaseEnd`, when it comes due again should it never report. */
  lease(subId: string, seq: number, leaseEnd: number): void {
    this.sql.run(
      "UPDATE deliveries SET due_at = ?, in_flight = 1 WHERE sub_id = ? AND seq = ?",
      leaseEnd,
      subId,
      seq,
    );
  }

  /** Makes every delivery left in flight (by a restart) due at `now`. */
  releaseLeases(now: number): void {
    this.sql.run("UPDATE deliveries SET in_flight = 0, due_at = ? WHERE in_flight = 1", now);
  }

  /** Records a failed attempt (how it counted) and when the next one is due. */
  scheduleRetry(subId: string, seq: number, counted: CountedTries, dueAt: number, error: string): void {
    this.sql.run(
      `UPDATE deliveries SET attempts = ?, down_tries = ?, due_at = ?, in_flight = 0, last_error = ?
       WHERE sub_id = ? AND seq = ?`,
      counted.attempts,
      counted.downTries,
      dueAt,
      error,
      subId,
      seq,
    );
  }

  /** When a subscription's next delivery is due (an index seek). */
  earliestDue(subId: string): number | null {
    return (
      this.sql.one<{ due: number | null }>(
        "SELECT MIN(due_at) AS due FROM deliveries WHERE sub_id = ?",
        subId,
      )?.due ?? null
    );
  }

  /**
   * Puts an attempt to a receiver that is down back among the pending deliveries without counting
   * it: it waits for the receiver's probes, due again as soon as the receiver is up.
   */
  hold(subId: string, seq: number, now: number, error: string): void {
    this.sql.run(
      "UPDATE deliveries SET due_at = ?, in_flight = 0, last_error = ? WHERE sub_id = ? AND seq = ?",
      now,
      error,
      subId,
      seq,
    );
  }

  // Dead letters

  /**
   * Keeps a given-up event in a subscription's dead letters (once per event), counts it on the
   * subscription with its new run of dead letters, and on the topic.
   */
  insertDeadLetter(
    subId: string,
    seq: number,
    event: BusEventValue,
    attempts: number,
    error: string,
    now: number,
    consecutiveDead: number,
  ): void {
    this.sql.run(
      `INSERT INTO dead_letters (sub_id, seq, event, attempts, last_error, dead_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (sub_id, seq) DO NOTHING`,
      subId,
      seq,
      JSON.stringify(event),
      attempts,
      error,
      now,
    );
    this.sql.run(
      "UPDATE subscriptions SET dead_letters = dead_letters + 1, consecutive_dead = ? WHERE id = ?",
      consecutiveDead,
      subId,
    );
    this.sql.run("UPDATE topic_meta SET failed = failed + 1");
  }

  /** Seqs and sizes of up to `limit` of a subscription's dead letters after `afterSeq`, oldest first. */
  deadLetterHeads(subId: string, afterSeq: number, limit: number): { seq: number; bytes: number }[] {
    return this.sql.all<{ seq: number; bytes: number }>(
      `SELECT seq, octet_length(event) AS bytes FROM dead_letters WHERE sub_id = ? AND seq > ?
       ORDER BY seq LIMIT ?`,
      subId,
      afterSeq,
      limit,
    );
  }

  /** A subscription's dead letters with seqs from `first` to `last`, oldest first. */
  deadLetters(subId: string, first: number, last: number): DeadLetterRow[] {
    return this.sql.all<DeadLetterRow>(
      `SELECT event, attempts, last_error, dead_at FROM dead_letters
       WHERE sub_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      subId,
      first,
      last,
    );
  }

  /**
   * Moves a subscription's dead letters (those with `seqs`, or all) back to pending deliveries due
   * at `dueAt`, with no attempts made, and takes them off the subscription's and the topic's
   * dead-letter counts. An event pruned since is put back from the dead letter's copy, so that
   * dispatch finds it. In SQL, so that no event body passes through memory.
   */
  redriveDeadLetters(subId: string, seqs: number[] | undefined, dueAt: number): Redrive {
    const list = seqs === undefined ? null : JSON.stringify(seqs);
    const selection = [subId, list, list] as const;
    const restored = this.sql.count(
      `INSERT INTO events (seq, id, type, priority, critical, published_at, data)
       SELECT seq, event ->> '$.id', event ->> '$.type', event ->> '$.priority',
         iif(event ->> '$.critical', 1, 0), event ->> '$.publishedAt', event -> '$.data'
       FROM dead_letters WHERE ${chosen("dead_letters")}
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.seq = dead_letters.seq)`,
      ...selection,
    );
    // `json ->> label` reads that key of the JSON object: the rank of the event's priority.
    const added = this.sql.all<{ bytes: number }>(
      `INSERT INTO deliveries (sub_id, seq, rank, critical, due_at, bytes)
       SELECT d.sub_id, d.seq, iif(e.critical = 1, ?, ? ->> e.priority), e.critical, ?,
         octet_length(e.data)
       FROM dead_letters d JOIN events e ON e.seq = d.seq WHERE ${chosen("d")}
       ON CONFLICT (sub_id, seq) DO NOTHING RETURNING bytes`,
      dispatchRank("normal", true),
      RANK_OF_PRIORITY,
      dueAt,
      ...selection,
    );
    const redriven = added.length;
    const bytes = added.reduce((sum, r) => sum + r.bytes, 0);
    const removed = this.sql.count(`DELETE FROM dead_letters WHERE ${chosen("dead_letters")}`, ...selection);
    if (removed > 0) {
      this.sql.run("UPDATE subscriptions SET dead_letters = dead_letters - ? WHERE id = ?", removed, subId);
      this.sql.run("UPDATE topic_meta SET failed = failed - ?", removed);
    }
    return { redriven, bytes, restored };
  }

  // Critical events sent to sockets and not yet acknowledged

  /** Expects an ack of `seq` from a socket by `dueAt` (pushed back when sent again). */
  expectAck(seq: number, socketId: string, dueAt: number): void {
    this.sql.run(
      `INSERT INTO socket_unacked (seq, socket_id, due_at) VALUES (?, ?, ?)
       ON CONFLICT (seq, socket_id) DO UPDATE SET due_at = excluded.due_at`,
      seq,
      socketId,
      dueAt,
    );
  }

  ack(socketId: string, seq: number): void {
    this.sql.run("DELETE FROM socket_unacked WHERE socket_id = ? AND seq = ?", socketId, seq);
  }

  forgetSocket(socketId: string): void {
    this.sql.run("DELETE FROM socket_unacked WHERE socket_id = ?", socketId);
  }

  /** Up to `limit` acks overdue by `now`, in seq order. */
  overdueAcks(now: number, limit: number): { seq: number; socket_id: string }[] {
    return this.sql.all<{ seq: number; socket_id: string }>(
      "SELECT seq, socket_id FROM socket_unacked WHERE due_at <= ? ORDER BY seq LIMIT ?",
      now,
      limit,
    );
  }

  earliestAckDue(): number | null {
    return this.sql.one<{ due: number | null }>("SELECT MIN(due_at) AS due FROM socket_unacked")?.due ?? null;
  }
}
