/**
 * A topic's webhook deliveries: one pending delivery per event and matching subscription, sent in
 * dispatch order up to the topic's in-flight limit, each attempt leased so that one that never
 * reports comes due again, and its outcome recorded: delivered, retried later, or dead-lettered
 * (pausing a subscription whose receiver looks gone). A subscription whose receiver is down
 * ({@link ReceiverHealth}) gets one probe at a time instead of its backlog, and the work of one
 * dispatch is bounded by what it sends: each subscription's due deliveries are read through its
 * own dispatch-order index, a receiver that is down costs one row. The rules are in `logic/`.
 */
import type { BusEventValue } from "../../shared/schemas/bus.ts";
import type { Priority } from "../../shared/schemas/priority.ts";
import { importSecret } from "../../shared/webhook-signature.ts";
import { sendWebhook } from "../lib/webhook-sender.ts";
import { type DueDelivery, deliveryKey, dispatchRank, planDispatch } from "../logic/dispatch-order.ts";
import { matchesFilter } from "../logic/filter.ts";
import type { AttemptOutcome } from "../logic/receiver-health.ts";
import { afterFailure, countFailure, shouldPause } from "../logic/retry-schedule.ts";
import { webhookUrlProblem } from "../logic/webhook-url.ts";
import type { RedisSinks } from "./redis-sink.ts";
import {
  type DeliveryRow,
  type EventRow,
  type Redrive,
  type Removed,
  type Subscriber,
  type SubscriptionRow,
  type TopicStore,
  toSubscriber,
} from "./store.ts";

/** Extra time past a webhook's own timeout before an attempt that never reported is retried. */
const LEASE_SLACK_MS = 5_000;

const PAUSED_ERROR = "subscription paused";

/** `lastError` of an attempt whose target the URL rules refuse now (checked before every attempt). */
export const TARGET_NOT_ALLOWED = "target not allowed";

/** What the dispatcher needs from the topic object. */
export interface DispatcherHost {
  /** The object's clock (see `SqlObject.clock`). */
  now(): number;
  /** The topic's in-flight limit as configured now. */
  maxInFlight(): number;
  /** An event row as receivers see it (it knows the topic's name). */
  toEvent(row: EventRow): BusEventValue;
  /** Called once an attempt is recorded and the next due ones are started: re-aim the alarm. */
  settled(): void;
  /** Keeps the object alive until `work` settles (`ctx.waitUntil`), whoever started it. */
  keepAlive(work: Promise<void>): void;
  /** The transport of subscriptions with a Redis target. */
  redis: RedisSinks;
  /** Whether loopback webhook targets are allowed now (`ALLOW_INSECURE_WEBHOOKS`). */
  allowInsecure(): boolean;
}

/** The subscriptions of one topic and the delivery of its events to them. */
export class WebhookDispatcher {
  private readonly store: TopicStore;
  private readonly host: DispatcherHost;
  private subscribers = new Map<string, Subscriber>();
  /** Pending deliveries (the backpressure measure), kept in step with the `deliveries` table. */
  private pending = 0;
  /** The bytes of event text those deliveries hold (the storage ceiling's measure). */
  private pendingBytes = 0;
  /** Deliveries being attempted, by key, with the time their lease runs out. */
  private readonly inFlight = new Map<string, number>();
  /** The work of each attempt in flight, until it has recorded its outcome and started the next. */
  private readonly running = new Set<Promise<void>>();

  constructor(store: TopicStore, host: DispatcherHost) {
    this.store = store;
    this.host = host;
  }

  /**
   * Reads the subscriptions and pending deliveries: at start-up, and after a failed transaction
   * (attempts in flight go on; their leases stay).
   */
  load(): void {
    this.subscribers = new Map(this.store.subscriptions().map((r) => [r.id, toSubscriber(r)]));
    const totals = this.store.pendingTotals();
    this.pending = totals.n;
    this.pendingBytes = totals.bytes;
  }

  /** Attempts cut short by a restart are made again at once rather than when their lease ends. */
  retryCutShort(now: number): void {
    this.store.releaseLeases(now);
  }

  /** How many deliveries are pending. */
  get undelivered(): number {
    return this.pending;
  }

  /** The bytes of event text the pending deliveries hold. */
  get undeliveredBytes(): number {
    return this.pendingBytes;
  }

  /** How many subscriptions the topic has. */
  get subscriptionCount(): number {
    return this.subscribers.size;
  }

  /** Every subscription, oldest first. */
  subscriptions(): Subscriber[] {
    return [...this.subscribers.values()];
  }

  subscription(id: string): Subscriber | undefined {
    return this.subscribers.get(id);
  }

  /** Stores a new subscription; it receives events published from now on. */
  add(row: SubscriptionRow): void {
    this.store.insertSubscription(row);
    this.subscribers.set(row.id, toSubscriber(row));
  }

  /** Removes a subscription with its pending deliveries and dead letters; false if there is none. */
  remove(id: string): boolean {
    if (!this.subscribers.delete(id)) return false;
    this.drop(this.store.deleteSubscription(id));
    return true;
  }

  /**
   * Takes a subscription back into service: ends a pause (by hand or automatic) and takes its
   * receiver as up, so its backlog goes out at once.
   */
  resume(sub: Subscriber): void {
    this.setPaused(sub, false);
    sub.health.reset();
    this.store.saveHealth(sub.id, sub.health.toJSON());
  }

  /** Pauses a subscription by hand, with the automatic pause's effect. */
  pause(sub: Subscriber): void {
    if (!sub.paused) this.setPaused(sub, true);
  }

  /**
   * Puts a subscription's dead letters (those with `seqs`, or all) back among its pending
   * deliveries, due at `now` with their attempts reset; they then go out in dispatch order like
   * any delivery. A paused subscription stays paused: each redriven event gets one attempt, whose
   * success resumes the subscription and whose failure dead-letters the event again.
   */
  redrive(sub: Subscriber, seqs: number[] | undefined, now: number): Redrive {
    const done = this.store.redriveDeadLetters(sub.id, seqs, now);
    this.pending += done.redriven;
    this.pendingBytes += done.bytes;
    return done;
  }

  /**
   * Queues a new event for every subscription whose filter matches it; a paused subscription
   * takes only critical events, the others go straight to its dead letters.
   */
  enqueue(row: EventRow, bytes: number, now: number): void {
    const critical = row.critical === 1;
    const rank = dispatchRank(row.priority as Priority, critical);
    for (const sub of this.subscribers.values()) {
      if (!matchesFilter(sub.filter, row.type)) continue;
      if (sub.paused && !critical) {
        this.deadLetter(sub, row, 0, PAUSED_ERROR, now);
        continue;
      }
      this.store.insertDelivery(sub.id, row.seq, rank, row.critical, now, bytes);
      this.pending++;
      this.pendingBytes += bytes;
    }
  }

  /**
   * Starts due attempts in dispatch order, up to the topic's in-flight limit: first a probe for
   * each receiver that is down and due one, then the due deliveries of the receivers that are up.
   * Reads at most `slots` rows per subscription.
   */
  pump(now: number): Promise<void>[] {
    let slots = this.host.maxInFlight() - this.inFlight.size;
    if (slots <= 0) return [];
    const started: Promise<void>[] = [];
    const due: (DueDelivery & { row: DeliveryRow })[] = [];
    for (const sub of this.subscribers.values()) {
      if (!sub.health.down(now)) {
        for (const r of this.store.dueDeliveries(sub.id, now, slots + this.inFlight.size)) {
          due.push({ subscriptionId: r.sub_id, seq: r.seq, rank: r.rank, row: r });
        }
        continue;
      }
      const probeAt = sub.health.nextProbeAt(now);
      if (slots === 0 || probeAt === null || probeAt > now) continue;
      const row = this.store.firstDelivery(sub.id);
      if (!row || !sub.health.takeProbe(now)) continue;
      started.push(this.start({ subscriptionId: row.sub_id, seq: row.seq, rank: row.rank, row }, now, true));
      slots--;
    }
    const planned = planDispatch(due, slots, new Set(this.inFlight.keys()));
    for (const d of planned) started.push(this.start(d, now));
    return started;
  }

  /**
   * When the next attempt is due, or null with none pending: a subscription's earliest due
   * delivery while its receiver is up, its next probe while it is down. While every in-flight
   * slot is taken, due deliveries wait for a slot (each finished attempt starts the next), so
   * this is only a watchdog at the earliest lease end.
   */
  nextDue(now: number = this.host.now()): number | null {
    let due: number | null = null;
    for (const sub of this.subscribers.values()) {
      // A probe needs a delivery that is not in flight: stragglers report and re-point the alarm.
      const at = sub.health.down(now)
        ? this.store.firstDelivery(sub.id)
          ? sub.health.nextProbeAt(now)
          : null
        : this.store.earliestDue(sub.id);
      if (at !== null && (due === null || at < due)) due = at;
    }
    if (due !== null && this.inFlight.size >= this.host.maxInFlight()) {
      return Math.max(due, Math.min(...this.inFlight.values()));
    }
    return due;
  }

  private start(d: DueDelivery & { row: DeliveryRow }, now: number, probe = false): Promise<void> {
    const sub = this.subscribers.get(d.subscriptionId) as Subscriber;
    const event = this.store.event(d.seq) as EventRow;
    const key = deliveryKey(d);
    // A lease: should this attempt never report, the row comes due again (at once after a restart).
    const leaseEnd = now + sub.timeoutMs + LEASE_SLACK_MS;
    this.store.lease(sub.id, d.seq, leaseEnd);
    this.inFlight.set(key, leaseEnd);
    const work: Promise<void> = this.attempt(sub, event, d.row, probe)
      .catch((err) => console.error("topic: recording a webhook attempt failed", err))
      .then(() => {
        this.inFlight.delete(key);
        this.running.delete(work);
        try {
          this.pump(this.host.now());
          this.host.settled();
        } catch (err) {
          // The lease brings the rest back due; nothing may escape as an unhandled rejection.
          console.error("topic: starting the next webhook attempts failed", err);
        }
      });
    this.running.add(work);
    this.host.keepAlive(work);
    return work;
  }

  /**
   * Resolves once no attempt is in flight: those running now and those each of them starts as it
   * finishes (attempts that are due later wait for the alarm). Tests await this instead of polling.
   */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /** One webhook attempt, unless the URL rules as they stand now refuse its target. */
  private async sendToWebhook(sub: Subscriber, event: EventRow): Promise<AttemptOutcome> {
    if (webhookUrlProblem(sub.url, { allowInsecure: this.host.allowInsecure() })) {
      return { ok: false, error: TARGET_NOT_ALLOWED, receiverDown: false };
    }
    sub.key ??= importSecret(sub.secret);
    const key = await sub.key;
    if (!key) return { ok: false, error: "the subscription's secret is unreadable", receiverDown: false };
    return sendWebhook({
      url: sub.url,
      key,
      id: event.id,
      body: JSON.stringify(this.host.toEvent(event)),
      timeoutMs: sub.timeoutMs,
      sentAt: this.host.now(),
    });
  }

  private async attempt(
    sub: Subscriber,
    event: EventRow,
    delivery: DeliveryRow,
    probe: boolean,
  ): Promise<void> {
    const outcome = sub.redis
      ? await this.host.redis.deliver(sub.id, sub.redis, this.host.toEvent(event), sub.timeoutMs)
      : await this.sendToWebhook(sub, event);
    // The subscription may have been deleted while the request ran.
    if (this.subscribers.get(sub.id) !== sub) return;
    const now = this.host.now();
    if (sub.health.record(outcome, now, probe)) this.store.saveHealth(sub.id, sub.health.toJSON());
    if (outcome.ok) {
      this.drop(this.store.deleteDelivery(sub.id, event.seq));
      this.store.saveDelivered(sub.id, event.seq);
      this.store.countDelivered();
      sub.consecutiveDead = 0;
      if (sub.paused) this.setPaused(sub, false);
      return;
    }
    if (sub.health.down(now)) {
      // An attempt that leaves the receiver down does not count toward maxAttempts: the delivery
      // waits for the probes, and goes out as soon as one gets through.
      this.store.hold(sub.id, event.seq, now, outcome.error);
      return;
    }
    const counted = countFailure(
      { attempts: delivery.attempts, downTries: delivery.down_tries },
      outcome.receiverDown === true,
    );
    const decision = afterFailure({
      counted,
      maxAttempts: sub.maxAttempts,
      critical: delivery.critical === 1,
      paused: sub.paused,
      policy: sub.policy,
      now,
      random: Math.random,
    });
    if (decision.kind === "retry") {
      this.store.scheduleRetry(sub.id, event.seq, counted, decision.dueAt, outcome.error);
      return;
    }
    this.drop(this.store.deleteDelivery(sub.id, event.seq));
    this.deadLetter(sub, event, counted.attempts, outcome.error, now);
    if (!sub.paused && shouldPause(sub.consecutiveDead)) this.setPaused(sub, true);
  }

  /** Gives up on one event for one subscription: it is kept, with why, in the dead letters. */
  private deadLetter(sub: Subscriber, event: EventRow, attempts: number, error: string, now: number): void {
    sub.consecutiveDead++;
    this.store.insertDeadLetter(
      sub.id,
      event.seq,
      this.host.toEvent(event),
      attempts,
      error,
      now,
      sub.consecutiveDead,
    );
  }

  /**
   * Pausing moves the subscription's pending non-critical deliveries (those not in flight) to its
   * dead letters; critical ones stay and keep being retried. Resuming clears the failure count.
   */
  private setPaused(sub: Subscriber, paused: boolean): void {
    sub.paused = paused;
    if (!paused) sub.consecutiveDead = 0;
    this.store.savePaused(sub.id, paused, sub.consecutiveDead);
    if (!paused) return;
    const now = this.host.now();
    for (const d of this.store.nonCriticalDeliveries(sub.id)) {
      if (this.inFlight.has(deliveryKey({ subscriptionId: d.sub_id, seq: d.seq, rank: d.rank }))) continue;
      const event = this.store.event(d.seq) as EventRow;
      this.drop(this.store.deleteDelivery(sub.id, d.seq));
      this.deadLetter(sub, event, d.attempts, d.last_error ?? PAUSED_ERROR, now);
    }
  }

  /** Takes deliveries that went off the pending counts. */
  private drop(removed: Removed): void {
    this.pending -= removed.n;
    this.pendingBytes -= removed.bytes;
  }
}
