/**
 * The HTTP transport of the typed client: bearer auth, JSON, the contract's error bodies turned
 * into results, and retries with backoff for network failures and 502/503/504 answers.
 * Web-standard APIs only: it runs in Workers, Node 22 and browsers.
 */
import { type ErrorInfo, fail, isErrorCode, type Result } from "../errors.ts";
import { type BackoffPolicy, backoffDelay } from "../resilience/backoff.ts";

export interface HttpClientOptions {
  /** Where Switchyard answers, e.g. `https://switchyard.example.workers.dev`. */
  baseUrl: string;
  /** A token from the server's `API_TOKENS`. */
  token: string;
  /** Defaults to the global `fetch`; a Worker may pass a service binding's `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Tries per request for network errors and 502/503/504 (default 3). */
  maxAttempts?: number;
  /** Waits between tries (default exponential from 50 ms, full jitter, at most 2 s). */
  backoff?: BackoffPolicy;
}

const DEFAULT_BACKOFF: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 50,
  maxDelayMs: 2000,
  jitter: "full",
};
const RETRYABLE_STATUS = new Set([502, 503, 504]);

function errorInfo(status: number, body: unknown): ErrorInfo {
  const error = (body as { error?: Partial<ErrorInfo> } | undefined)?.error;
  if (error && isErrorCode(error.code)) {
    const info: ErrorInfo = { code: error.code, message: String(error.message ?? "") };
    if (error.details) info.details = error.details;
    return info;
  }
  return { code: status >= 500 ? "unavailable" : "invalid_request", message: `HTTP ${status}` };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export class HttpTransport {
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  /**
   * Sends one request; a 2xx JSON body becomes `{ ok: true, value }`, an error body `{ ok: false, error }`.
   * `headers` adds request headers such as `If-Match`.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Result<T>> {
    const attempts = this.#options.maxAttempts ?? 3;
    const backoff = this.#options.backoff ?? DEFAULT_BACKOFF;
    const send = this.#options.fetch ?? ((r: Request) => fetch(r));
    let last: Result<T> = fail("unavailable", "no attempt made");
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1)
        await new Promise((r) => setTimeout(r, backoffDelay(backoff, attempt - 1, Math.random)));
      let res: Response;
      try {
        res = await send(this.#build(method, path, body, headers));
      } catch (err) {
        last = fail("unavailable", `network error: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const parsed = parseJson(await res.text());
      if (res.ok) return { ok: true, value: parsed as T };
      last = { ok: false, error: errorInfo(res.status, parsed) };
      if (!RETRYABLE_STATUS.has(res.status)) return last;
    }
    return last;
  }

  #build(method: string, path: string, body: unknown, extra: Record<string, string> = {}): Request {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.#options.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = new URL(path, this.#options.baseUrl);
    return new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }
}
