/**
 * A circuit breaker policy whose state lives in Switchyard's breaker object, shared by every
 * isolate. Asking the object before every call would add a round trip to each call, so:
 *
 * - The last answer is cached for `staleMs`. While it says closed, calls go without asking; while
 *   it says open, calls are refused locally until the cool-down ends. Half-open is never cached:
 *   each would-be probe asks the object, which hands out at most `halfOpenProbes` slots worldwide.
 * - Outcomes are queued and sent in one request when `maxBatch` are waiting or `flushMs` after
 *   the first, or at once for a failure (so the object learns of trouble within a round trip) and
 *   for a probe (which the object is waiting for).
 *
 * The trade-off: an isolate may keep calling a dependency for up to `staleMs` after the breaker
 * opened elsewhere, and the object counts outcomes up to `flushMs` late; in exchange a healthy
 * path costs about one request per `staleMs` plus one per `maxBatch` calls instead of two per call.
 * `staleMs: 0` asks before every call (exact, slow); `flushOnFailure: false` batches failures too.
 */
import type { CircuitStateName } from "./breaker.ts";
import {
  BreakerClient,
  type BreakerDecision,
  type BreakerEndpoint,
  type BreakerStatus,
  type ReportedOutcome,
} from "./breaker-client.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import { BrokenCircuitError } from "./errors.ts";
import { NEVER_ABORTED, type Policy, type Task } from "./policy.ts";
import { type ErrorFilter, toPredicate } from "./predicates.ts";

export interface SharedBreakerOptions extends BreakerEndpoint {
  /** How long an answer from the object is trusted (default 1 000 ms; 0 asks before every call). */
  staleMs?: number;
  /** Longest an outcome waits in the queue (default 1 000 ms). */
  flushMs?: number;
  /** Outcomes sent in one request at most; a full queue is sent at once (default 100). */
  maxBatch?: number;
  /** Send a failure at once instead of batching it (default true). */
  flushOnFailure?: boolean;
  /** Errors that count as failures (default: all). */
  failureOn?: ErrorFilter;
  /** Results that count as failures, e.g. `(res) => res.status >= 500`. */
  failureOnResult?: (result: unknown) => boolean;
  /**
   * When the object cannot be reached: `allow` the call (default: the breaker service being down
   * must not take the app down) or `reject` it with the transport's error.
   */
  onUnavailable?: "allow" | "reject";
  clock?: Clock;
}

interface CachedState {
  state: CircuitStateName;
  at: number;
  /** Open: when the cool-down ends. */
  retryAt: number;
}

/** A decision for one call: go (maybe as a probe), or refused. */
type Ticket = { probe: boolean };

const GO: Ticket = { probe: false };
const PROBE: Ticket = { probe: true };

export class SharedBreakerPolicy implements Policy {
  readonly name: string;
  private readonly client: BreakerClient;
  private readonly clock: Clock;
  private readonly staleMs: number;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly flushOnFailure: boolean;
  private readonly allowWhenUnavailable: boolean;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly failureOnResult: ((result: unknown) => boolean) | undefined;
  private cache: CachedState | undefined;
  private refreshing: Promise<BreakerDecision> | undefined;
  private queue: ReportedOutcome[] = [];
  private timer: TimerHandle | undefined;
  private readonly sending = new Set<Promise<void>>();
  private sent = 0;

  constructor(name: string, options: SharedBreakerOptions) {
    this.name = name;
    this.client = new BreakerClient(name, options);
    this.clock = options.clock ?? systemClock;
    this.staleMs = options.staleMs ?? 1_000;
    this.flushMs = options.flushMs ?? 1_000;
    this.maxBatch = Math.min(1_000, Math.max(1, options.maxBatch ?? 100));
    this.flushOnFailure = options.flushOnFailure ?? true;
    this.allowWhenUnavailable = (options.onUnavailable ?? "allow") === "allow";
    this.isFailure = toPredicate(options.failureOn);
    this.failureOnResult = options.failureOnResult;
  }

  /** Requests made to the object so far: the cost of the cache, for monitoring. */
  get requests(): number {
    return this.sent;
  }

  /** The state last heard from the object, if any. */
  get cachedState(): CircuitStateName | undefined {
    return this.cache?.state;
  }

  async execute<T>(fn: Task<T>, signal: AbortSignal = NEVER_ABORTED): Promise<T> {
    const ticket = await this.admit();
    const start = this.clock.now();
    let result: T;
    try {
      result = await fn({ signal });
    } catch (err) {
      // A caller that gave up says nothing about the dependency; a probe slot frees itself in time.
      if (!signal.aborted)
        this.report({ ok: !this.isFailure(err), latencyMs: this.clock.now() - start }, ticket);
      throw err;
    }
    this.report({ ok: !this.failureOnResult?.(result), latencyMs: this.clock.now() - start }, ticket);
    return result;
  }

  /** Sends every queued outcome now; await it (e.g. in `ctx.waitUntil`) before an isolate goes idle. */
  async flush(): Promise<void> {
    if (this.queue.length > 0) this.send(this.takeQueue());
    await Promise.all(this.sending);
  }

  private async admit(): Promise<Ticket> {
    const now = this.clock.now();
    const c = this.cache;
    if (c && now - c.at < this.staleMs) {
      if (c.state === "closed") return GO;
      if (c.state === "open" && c.retryAt > now) throw new BrokenCircuitError("open", c.retryAt - now, now);
    }
    // Callers arriving together share one request; only its initiator may hold a probe slot.
    const shared = this.refreshing;
    let decision: BreakerDecision;
    try {
      if (shared) {
        decision = await shared;
        if (decision.allowed && decision.state !== "closed") decision = await this.ask();
      } else {
        this.refreshing = this.ask();
        try {
          decision = await this.refreshing;
        } finally {
          this.refreshing = undefined;
        }
      }
    } catch (err) {
      if (!this.allowWhenUnavailable) throw err;
      return GO;
    }
    if (!decision.allowed) {
      throw new BrokenCircuitError(
        decision.state === "open" ? "open" : "half_open",
        decision.retryAfterMs ?? 0,
        now,
      );
    }
    return decision.state === "closed" ? GO : PROBE;
  }

  /** Asks the object; queued outcomes go first, and when they leave it closed, that is the answer. */
  private async ask(): Promise<BreakerDecision> {
    if (this.queue.length > 0) {
      this.sent++;
      const status = await this.client.record(this.takeQueue());
      this.remember(status);
      if (status.state === "closed") return { state: "closed", allowed: true };
    }
    this.sent++;
    const decision = await this.client.acquire();
    this.remember(decision);
    return decision;
  }

  /** Caches an answer. An open state whose end was not given is trusted for the staleness window. */
  private remember(status: BreakerStatus): void {
    const at = this.clock.now();
    this.cache = { state: status.state, at, retryAt: at + (status.retryAfterMs ?? this.staleMs) };
  }

  private report(outcome: ReportedOutcome, ticket: Ticket): void {
    if (ticket.probe) {
      this.send([outcome]);
      return;
    }
    this.queue.push(outcome);
    if (this.queue.length >= this.maxBatch || (!outcome.ok && this.flushOnFailure)) {
      this.send(this.takeQueue());
    } else if (this.timer === undefined) {
      this.timer = this.clock.setTimer(() => {
        this.timer = undefined;
        if (this.queue.length > 0) this.send(this.takeQueue());
      }, this.flushMs);
    }
  }

  private takeQueue(): ReportedOutcome[] {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    return batch;
  }

  /** Sends outcomes in the background. A failed send drops them and the cache, so the next call asks. */
  private send(batch: ReportedOutcome[]): void {
    for (let i = 0; i < batch.length; i += 1_000) {
      this.sent++;
      const sent: Promise<void> = this.client
        .record(batch.slice(i, i + 1_000))
        .then(
          (status) => this.remember(status),
          () => {
            this.cache = undefined;
          },
        )
        .finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    }
  }
}

/**
 * A circuit breaker shared through Switchyard by every isolate that uses the same `name`.
 * @example
 * const payments = sharedBreaker("payments-api", { baseUrl: env.SWITCHYARD_URL, token: env.SWITCHYARD_TOKEN });
 * const res = await wrap(retry({ retryOn: (e) => !(e instanceof BrokenCircuitError) }), payments, timeout(2_000))
 *   .execute(({ signal }) => fetch(paymentsUrl, { signal }));
 * ctx.waitUntil(payments.flush());
 */
export function sharedBreaker(name: string, options: SharedBreakerOptions): SharedBreakerPolicy {
  return new SharedBreakerPolicy(name, options);
}
