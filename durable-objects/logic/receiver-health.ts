/**
 * Whether a subscription's receiver is up, whatever the transport (webhook, Redis): the project's
 * circuit breaker ({@link Breaker}) fed only with outcomes that say something about the receiver.
 * A failure that says the receiver itself is down (connection refused or reset, DNS, timeout,
 * 502/503/504, Redis unreachable) counts against it; any answer from the receiver (a 2xx, but
 * also a 400 or 500) shows it is up. After {@link DOWN_AFTER} down failures in a row the circuit
 * opens: the receiver is down and the dispatcher sends one pending delivery at a time as a probe,
 * at the times this module gives (1 s, 2 s, 4 s, 8 s, then every 15 s). A probe that gets an
 * answer closes the circuit and normal dispatch resumes. No clock here: every call takes `now`.
 */
import { type BackoffPolicy, baseDelay } from "../../shared/resilience/backoff.ts";
import { Breaker, type BreakerConfig, type BreakerSnapshot } from "../../shared/resilience/breaker.ts";

/** Down failures in a row that mark a receiver down. */
export const DOWN_AFTER = 3;

/** Probes of a down receiver: 1 s after it went down, doubling after each failed probe, at most 15 s. */
export const PROBE_SCHEDULE: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 1_000,
  maxDelayMs: 15_000,
  jitter: "none",
};

/**
 * A probe that has not reported after this long is taken as lost and another may go. Longer than
 * any attempt can take (a webhook's timeout is at most 30 s), so that a slow probe is never
 * joined by a second one; the breaker's own lost-probe time is the probe interval, too short.
 */
export const PROBE_LOST_MS = 60_000;

/** How an attempt went, as every transport reports it. */
export type AttemptOutcome =
  | { ok: true }
  /**
   * `receiverDown`: the failure says the receiver itself is unreachable, not that it refused the
   * event. A transport that does not tell leaves it out, and its failures count as answers.
   */
  | { ok: false; error: string; receiverDown?: boolean };

/** A receiver's health as stored with its subscription (JSON). */
export interface HealthSnapshot {
  breaker: BreakerSnapshot;
  /** Probes that failed since the receiver went down (sets the next probe's delay). */
  failedProbes: number;
}

/** What the listing and stats show. */
export interface ReceiverView {
  receiver: "up" | "down";
  nextProbeAt?: number;
}

const config = (failedProbes: number): BreakerConfig => ({
  consecutiveFailures: DOWN_AFTER,
  minimumCalls: 1,
  window: { kind: "count", size: 1 },
  openMs: baseDelay(PROBE_SCHEDULE, failedProbes + 1),
  halfOpenProbes: 1,
});

/** One receiver's health; persist {@link toJSON} whenever {@link record} returns true. */
export class ReceiverHealth {
  private breaker: Breaker;
  private failedProbes: number;
  /** When the probe now out was taken; null with none out. */
  private probeSince: number | null = null;

  /** From a stored snapshot; a probe that was out when the object stopped is forgotten (its lease brings the delivery back). */
  constructor(snapshot?: HealthSnapshot | null) {
    const breaker = snapshot ? structuredClone(snapshot.breaker) : Breaker.initialState();
    if (breaker.circuit.state === "half_open") breaker.circuit.probes = [];
    this.failedProbes = snapshot?.failedProbes ?? 0;
    this.breaker = new Breaker(config(this.failedProbes), breaker);
  }

  /** True while the receiver counts as down (open, or half-open waiting for a probe's answer). */
  down(now: number): boolean {
    return this.breaker.state(now).state !== "closed";
  }

  /**
   * For a down receiver: may a probe go now? Takes the one probe slot when it may; the probe's
   * outcome must then be {@link record}ed (or {@link abandon}ed).
   */
  takeProbe(now: number): boolean {
    if (this.probeOut(now)) return false;
    const admission = this.breaker.acquire(now);
    if (!admission.allowed || !admission.probe) return false;
    this.probeSince = now;
    return true;
  }

  /** Gives the probe slot back without an outcome (nothing was sent after all). */
  abandon(now: number): void {
    this.probeSince = null;
    this.breaker.abandon(now);
  }

  /**
   * Records an attempt's outcome (`probe`: the attempt went out as the probe); returns true when
   * the stored health changed. Failures that do not say the receiver is down are the receiver's
   * answer, so they count as it being up.
   */
  record(outcome: AttemptOutcome, now: number, probe = false): boolean {
    if (probe) this.probeSince = null;
    const before = JSON.stringify(this.breaker.toJSON().circuit);
    const down = !outcome.ok && outcome.receiverDown === true;
    const state = this.breaker.state(now).state;
    if (state === "half_open") {
      this.failedProbes = down ? this.failedProbes + 1 : 0;
      // The delay after this probe is the breaker's cool-down when it opens again.
      this.breaker = new Breaker(config(this.failedProbes), this.breaker.toJSON());
    } else if (state === "open") {
      // A straggler started before the receiver went down: it tells nothing new.
      return false;
    }
    this.breaker.record(!down, undefined, now);
    if (!this.down(now)) this.failedProbes = 0;
    return JSON.stringify(this.breaker.toJSON().circuit) !== before;
  }

  /** Takes the receiver as up again at once (an operator's resume). */
  reset(): void {
    this.failedProbes = 0;
    this.probeSince = null;
    this.breaker = new Breaker(config(0));
  }

  /**
   * When a probe is next due: null while up or with the one probe out; `now` or earlier when one
   * may go now.
   */
  nextProbeAt(now: number): number | null {
    if (this.probeOut(now)) return null;
    const c = this.breaker.state(now);
    if (c.state === "open") return c.halfOpenAt;
    if (c.state === "half_open" && c.probes.length === 0) return now;
    return null;
  }

  /** The listing's and stats' view at `now`. */
  view(now: number): ReceiverView {
    const c = this.breaker.state(now);
    if (c.state === "closed") return { receiver: "up" };
    return { receiver: "down", nextProbeAt: c.state === "open" ? c.halfOpenAt : (c.probes[0] ?? now) };
  }

  private probeOut(now: number): boolean {
    return this.probeSince !== null && now - this.probeSince < PROBE_LOST_MS;
  }

  toJSON(): HealthSnapshot {
    return { breaker: this.breaker.toJSON(), failedProbes: this.failedProbes };
  }
}
