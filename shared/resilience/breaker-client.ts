/**
 * The few calls the client-side shared breaker makes to `/v1/breakers/{name}`, over the typed
 * client's HTTP transport. Answers are checked field by field; error bodies throw `ApiError`.
 */

import { BREAKER_CALLS, type BreakerCalls } from "../client/calls.ts";
import { HttpTransport } from "../client/http.ts";
import { callsOver, httpTransport } from "../client/transport.ts";
import { unwrap } from "../errors.ts";
import type { CircuitStateName } from "./breaker.ts";

/** The state the object reports; when open, how long until half-open. */
export interface BreakerStatus {
  state: CircuitStateName;
  retryAfterMs?: number;
}

/** What `acquire` answers. */
export interface BreakerDecision extends BreakerStatus {
  allowed: boolean;
}

/** One call's outcome, as reported. */
export interface ReportedOutcome {
  ok: boolean;
  latencyMs?: number;
}

/** Where a shared breaker lives. */
export interface BreakerEndpoint {
  /** The Switchyard Worker, e.g. `https://switchyard.example.workers.dev`. */
  baseUrl: string;
  /** A bearer token it accepts. */
  token: string;
  /** The `fetch` to use (default: the global one); a service binding's `fetch` works too. */
  fetch?: (request: Request) => Promise<Response>;
}

const STATES: ReadonlySet<string> = new Set(["closed", "open", "half_open"]);

function statusOf(body: unknown): BreakerStatus {
  const { state, retryAfterMs } = (body ?? {}) as { state?: unknown; retryAfterMs?: unknown };
  if (typeof state !== "string" || !STATES.has(state))
    throw new TypeError("breaker answered without a state");
  const status: BreakerStatus = { state: state as CircuitStateName };
  if (typeof retryAfterMs === "number") status.retryAfterMs = retryAfterMs;
  return status;
}

function decisionOf(body: unknown): BreakerDecision {
  const { allowed } = (body ?? {}) as { allowed?: unknown };
  if (typeof allowed !== "boolean") throw new TypeError("breaker answered without allowed");
  return { ...statusOf(body), allowed };
}

/** The breaker routes of one breaker. */
export class BreakerClient {
  readonly #calls: BreakerCalls;
  readonly #name: string;

  constructor(name: string, endpoint: BreakerEndpoint) {
    // One try: acquire hands out probes and record counts outcomes, neither is safe to repeat;
    // the shared breaker decides itself what an unreachable Switchyard means.
    const http = new HttpTransport({ ...endpoint, maxAttempts: 1 });
    this.#calls = callsOver(httpTransport(http), "breakers", BREAKER_CALLS);
    this.#name = name;
  }

  /** `POST .../acquire`: may a call go? */
  async acquire(): Promise<BreakerDecision> {
    return decisionOf(unwrap(await this.#calls.acquire(this.#name)));
  }

  /** `POST .../record` or `.../record-batch`: reports outcomes, oldest first; answers the state after them. */
  async record(outcomes: readonly ReportedOutcome[]): Promise<BreakerStatus> {
    const [only] = outcomes;
    const answer =
      outcomes.length === 1 && only
        ? await this.#calls.record(this.#name, only)
        : await this.#calls.recordBatch(this.#name, { outcomes: [...outcomes] });
    return statusOf(unwrap(answer));
  }
}
