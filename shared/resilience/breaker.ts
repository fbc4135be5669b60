/**
 * The circuit breaker's rules, free of clocks, timers and storage: `acquire` asks whether a call
 * may go, `record` reports how it went, both with the current time. The in-process policy
 * (`circuit-breaker.ts`) and the shared breaker's Durable Object both drive this one class, and
 * persist it through `toJSON` / the constructor's snapshot.
 *
 * closed → open: `consecutiveFailures` failures in a row, or (with `failureRate`) failed or slow
 * calls making up at least that share of at least `minimumCalls` calls in the window (or slow
 * calls alone reaching `slowCallRate`).
 * open → half_open: `openMs` after opening.
 * half_open: at most `halfOpenProbes` calls at a time; one failure opens again, `halfOpenProbes`
 * successes close. A probe that never reports frees its slot `openMs` after it was handed out.
 */
import {
  createWindow,
  FAILED,
  SLOW,
  type SlidingWindow,
  type WindowSnapshot,
  type WindowSpec,
} from "./sliding-window.ts";

export interface BreakerConfig {
  /** Failures in a row that open the circuit (`Infinity` to rely on rates alone). */
  consecutiveFailures: number;
  /** Share of failed or slow calls in the window, in (0, 1], that opens it. */
  failureRate?: number;
  /** Share of slow calls alone, in (0, 1], that opens it. */
  slowCallRate?: number;
  /** A call that takes at least this long is slow. */
  slowCallMs?: number;
  /** Calls the window must hold before a rate counts. */
  minimumCalls: number;
  window: WindowSpec;
  /** Cool-down before half-open; also how long a probe may stay out without reporting. */
  openMs: number;
  /** Probes allowed at once in half-open, and successes that close the circuit. */
  halfOpenProbes: number;
}

/** The state of a circuit. */
export type CircuitState =
  | { state: "closed"; consecutiveFailures: number }
  | { state: "open"; openedAt: number; halfOpenAt: number }
  /** `probes` holds when each probe still out was handed out, oldest first. */
  | { state: "half_open"; probes: number[]; successes: number };

/** The state's name: `closed`, `open` or `half_open`. */
export type CircuitStateName = CircuitState["state"];

/** Lifetime counts, for monitoring. */
export interface BreakerCounters {
  /** Outcomes recorded. */
  calls: number;
  failures: number;
  /** Calls refused while open or with every probe out. */
  rejected: number;
  /** Times the circuit opened. */
  opened: number;
}

/** Everything a breaker holds, as JSON. */
export interface BreakerSnapshot {
  circuit: CircuitState;
  window: WindowSnapshot;
  counters: BreakerCounters;
}

/** Why the circuit changed state. */
export type TransitionReason =
  | "consecutive_failures"
  | "failure_rate"
  | "slow_call_rate"
  | "cool_down"
  | "probe_failed"
  | "probes_succeeded";

/** A state change, as given to listeners. */
export interface StateChange {
  from: CircuitStateName;
  to: CircuitStateName;
  reason: TransitionReason;
  at: number;
}

/** What `acquire` decided. A `probe` admission must be followed by `record` or `abandon`. */
export type Admission =
  | { allowed: true; probe: boolean }
  | { allowed: false; state: "open" | "half_open"; retryAfterMs: number };

const ADMITTED: Admission = { allowed: true, probe: false };
const PROBE: Admission = { allowed: true, probe: true };

export class Breaker {
  private circuit: CircuitState;
  private window: SlidingWindow;
  private readonly tracksWindow: boolean;
  readonly config: BreakerConfig;
  readonly counters: BreakerCounters;
  private readonly onChange: ((change: StateChange) => void) | undefined;

  /** A breaker with `config`, starting from `snapshot` (a fresh closed circuit without one). */
  constructor(config: BreakerConfig, snapshot?: BreakerSnapshot, onChange?: (change: StateChange) => void) {
    this.config = config;
    this.circuit = snapshot ? structuredClone(snapshot.circuit) : Breaker.initialState().circuit;
    this.counters = snapshot ? { ...snapshot.counters } : Breaker.initialState().counters;
    this.window = createWindow(config.window, snapshot?.window);
    this.tracksWindow = config.failureRate !== undefined || config.slowCallRate !== undefined;
    this.onChange = onChange;
  }

  /** The snapshot of a breaker that never saw a call. */
  static initialState(): BreakerSnapshot {
    return {
      circuit: { state: "closed", consecutiveFailures: 0 },
      window: { kind: "count", size: 0, flags: [] },
      counters: { calls: 0, failures: 0, rejected: 0, opened: 0 },
    };
  }

  /** The circuit at `now`, after any transition that time has brought. */
  state(now: number): CircuitState {
    this.tick(now);
    return this.circuit;
  }

  /** May a call go now? Half-open admissions are probes and take a probe slot. */
  acquire(now: number): Admission {
    const c = this.circuit;
    if (c.state === "closed") return ADMITTED;
    this.tick(now);
    const t = this.circuit;
    if (t.state === "closed") return ADMITTED;
    if (t.state === "half_open" && t.probes.length < this.config.halfOpenProbes) {
      t.probes.push(now);
      return PROBE;
    }
    this.counters.rejected++;
    const retryAt = t.state === "open" ? t.halfOpenAt : (t.probes[0] as number) + this.config.openMs;
    return { allowed: false, state: t.state, retryAfterMs: Math.max(0, retryAt - now) };
  }

  /** Reports a finished call: whether it succeeded and, to detect slow calls, how long it took. */
  record(ok: boolean, latencyMs: number | undefined, now: number): void {
    this.counters.calls++;
    if (!ok) this.counters.failures++;
    const c = this.circuit;
    if (c.state === "closed") {
      if (ok) c.consecutiveFailures = 0;
      else c.consecutiveFailures++;
      if (c.consecutiveFailures >= this.config.consecutiveFailures) {
        this.open(now, "consecutive_failures");
        return;
      }
      if (this.tracksWindow) this.measure(ok, latencyMs, now);
      return;
    }
    this.tick(now);
    const t = this.circuit;
    if (t.state !== "half_open") return;
    t.probes.shift();
    if (!ok) {
      this.open(now, "probe_failed");
    } else if (++t.successes >= this.config.halfOpenProbes) {
      this.close(now);
    }
  }

  /** Gives back a probe slot without an outcome (the caller gave up on the call). */
  abandon(now: number): void {
    this.tick(now);
    if (this.circuit.state === "half_open") this.circuit.probes.shift();
  }

  /** Applies the transitions due by `now`: open → half-open, and lost probes freeing their slots. */
  tick(now: number): void {
    const c = this.circuit;
    if (c.state === "open" && now >= c.halfOpenAt) {
      this.transition({ state: "half_open", probes: [], successes: 0 }, "cool_down", now);
    } else if (c.state === "half_open") {
      const lost = now - this.config.openMs;
      while (c.probes.length > 0 && (c.probes[0] as number) <= lost) c.probes.shift();
    }
  }

  /** When time alone will next change something (for an alarm), if ever. */
  nextDeadline(): number | undefined {
    const c = this.circuit;
    if (c.state === "open") return c.halfOpenAt;
    if (c.state === "half_open" && c.probes.length > 0) return (c.probes[0] as number) + this.config.openMs;
    return undefined;
  }

  toJSON(): BreakerSnapshot {
    return {
      circuit: structuredClone(this.circuit),
      window: this.window.toJSON(),
      counters: { ...this.counters },
    };
  }

  private measure(ok: boolean, latencyMs: number | undefined, now: number): void {
    const { slowCallMs, failureRate, slowCallRate, minimumCalls } = this.config;
    const slow = slowCallMs !== undefined && latencyMs !== undefined && latencyMs >= slowCallMs;
    const flags = (ok ? 0 : FAILED) | (slow ? SLOW : 0);
    this.window.add(flags, now);
    // A good call can trip a rate too: the one that brings the window up to `minimumCalls`.
    const t = this.window.totals(now);
    if (t.calls < minimumCalls) return;
    if (failureRate !== undefined && t.bad / t.calls >= failureRate) this.open(now, "failure_rate");
    else if (slowCallRate !== undefined && t.slow / t.calls >= slowCallRate) this.open(now, "slow_call_rate");
  }

  private open(now: number, reason: TransitionReason): void {
    this.counters.opened++;
    this.transition({ state: "open", openedAt: now, halfOpenAt: now + this.config.openMs }, reason, now);
  }

  private close(now: number): void {
    this.window.reset();
    this.transition({ state: "closed", consecutiveFailures: 0 }, "probes_succeeded", now);
  }

  private transition(to: CircuitState, reason: TransitionReason, at: number): void {
    const from = this.circuit.state;
    this.circuit = to;
    this.onChange?.({ from, to: to.state, reason, at });
  }
}
