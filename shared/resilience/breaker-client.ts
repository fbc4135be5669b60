/**
 * The few calls the client-side shared breaker makes to `/v1/breakers/{name}`, over `fetch`.
 * Answers are checked field by field; error bodies come back as {@link ApiError}.
 */
import { ApiError, isErrorCode } from "../errors.ts";
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

async function errorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as {
    error?: { code?: unknown; message?: unknown };
  } | null;
  const code = body?.error?.code;
  const message = typeof body?.error?.message === "string" ? body.error.message : `HTTP ${res.status}`;
  return new ApiError(
    isErrorCode(code) ? code : res.status >= 500 ? "unavailable" : "invalid_request",
    message,
    {
      status: res.status,
    },
  );
}

/** The breaker routes of one breaker. */
export class BreakerClient {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly send: (request: Request) => Promise<Response>;

  constructor(name: string, endpoint: BreakerEndpoint) {
    this.url = `${endpoint.baseUrl.replace(/\/+$/, "")}/v1/breakers/${encodeURIComponent(name)}`;
    this.headers = { authorization: `Bearer ${endpoint.token}`, "content-type": "application/json" };
    this.send = endpoint.fetch ?? ((request) => fetch(request));
  }

  /** `POST .../acquire`: may a call go? */
  async acquire(): Promise<BreakerDecision> {
    return decisionOf(await this.post("/acquire", {}));
  }

  /** `POST .../record` or `.../record-batch`: reports outcomes, oldest first; answers the state after them. */
  async record(outcomes: readonly ReportedOutcome[]): Promise<BreakerStatus> {
    const body = outcomes.length === 1 ? outcomes[0] : { outcomes };
    return statusOf(await this.post(outcomes.length === 1 ? "/record" : "/record-batch", body));
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const res = await this.send(
      new Request(this.url + path, { method: "POST", headers: this.headers, body: JSON.stringify(body) }),
    );
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }
}
