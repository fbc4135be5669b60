/**
 * The HTTP transport of the typed client: bearer auth, JSON, the contract's error bodies turned
 * into results, and retries (the resilience library's `retry`) for network failures and 502/503/504
 * answers of idempotent requests.
 * Web-standard APIs only: it runs in Workers, Node 22 and browsers.
 */
import { answerJson } from "../answer-json.ts";
import { ApiError, type ErrorInfo, isErrorCode, type Result } from "../errors.ts";
import type { BackoffPolicy } from "../resilience/backoff.ts";
import { retry } from "../resilience/retry.ts";
import { type CloseInfo, upgradeRefusal } from "./socket-end.ts";

export interface HttpClientOptions {
  /** Where Switchyard answers, e.g. `https://switchyard.example.workers.dev`. */
  baseUrl: string;
  /** An admin token (the server's `API_TOKENS`) or a scoped token minted by `POST /v1/tokens`. */
  token: string;
  /** Defaults to the global `fetch`; a Worker may pass a service binding's `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Tries per idempotent request for network errors and 502/503/504 (default 3). */
  maxAttempts?: number;
  /** Waits between tries (default exponential from 50 ms, full jitter, at most 2 s). */
  backoff?: Omit<BackoffPolicy, "kind"> & { kind?: BackoffPolicy["kind"] };
}

/** Per-request options. */
export interface RequestOptions {
  /** Extra headers such as `If-Match`. */
  headers?: Record<string, string>;
  /**
   * Safe to send twice. Defaults to true for GET, PUT and DELETE and false for POST, so a lost
   * answer never applies an increment or a publish twice; operations that are idempotent by
   * design (a lock acquire by the same owner, an enqueue with a dedup key) pass true.
   */
  idempotent?: boolean;
}

/** The part of a WebSocket the clients use (browsers, Node 22, Workers). */
export interface ClientSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close" | "error", listener: (event: CloseInfo) => void): void;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** A failure worth another try; carried through `retry` as a thrown error. */
class RetryableAnswer extends Error {
  readonly error: ErrorInfo;
  constructor(error: ErrorInfo) {
    super(error.message);
    this.error = error;
  }
}

/**
 * The error a response carries, or one made up from its status when the body is not ours.
 * A `Retry-After` header (backpressure) lands in `details.retryAfterSeconds`.
 */
function errorInfo(res: Response, body: unknown): ErrorInfo {
  const error = (body as { error?: Partial<ErrorInfo> } | undefined)?.error;
  const info: ErrorInfo =
    error && isErrorCode(error.code)
      ? { code: error.code, message: String(error.message ?? "") }
      : { code: res.status >= 500 ? "unavailable" : "invalid_request", message: `HTTP ${res.status}` };
  const retryAfter = res.headers.get("retry-after");
  if (error?.details || retryAfter) {
    info.details = { ...error?.details, ...(retryAfter ? { retryAfterSeconds: Number(retryAfter) } : {}) };
  }
  return info;
}

export class HttpTransport {
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  /** A transport that sends with `options.fetch` when given (a Worker's own, a test's), else the global one. */
  static over(options: { baseUrl: string; token: string; fetch?: typeof fetch }): HttpTransport {
    const send = options.fetch;
    return new HttpTransport({
      baseUrl: options.baseUrl,
      token: options.token,
      fetch: send && ((r) => send(r)),
    });
  }

  /**
   * Sends one request; a 2xx JSON body becomes `{ ok: true, value }`, an error body `{ ok: false, error }`.
   * Network failures and 502/503/504 are retried with backoff when the request is idempotent.
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<Result<T>> {
    const send = this.#options.fetch ?? ((r: Request) => fetch(r));
    const once = async (): Promise<Result<T>> => {
      let res: Response;
      try {
        res = await send(this.#build(method, path, body, options.headers));
      } catch (err) {
        throw new RetryableAnswer({
          code: "unavailable",
          message: `network error: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
      const parsed = answerJson(await res.text());
      if (res.ok) return { ok: true, value: parsed as T };
      const error = errorInfo(res, parsed);
      if (RETRYABLE_STATUS.has(res.status)) throw new RetryableAnswer(error);
      return { ok: false, error };
    };
    const idempotent = options.idempotent ?? method !== "POST";
    const backoff = this.#options.backoff;
    try {
      return await retry(once, {
        maxAttempts: idempotent ? (this.#options.maxAttempts ?? 3) : 1,
        backoff: backoff?.kind ?? "exponential",
        initialDelayMs: backoff?.initialDelayMs ?? 50,
        maxDelayMs: backoff?.maxDelayMs ?? 2000,
        jitter: backoff?.jitter ?? "full",
        retryOn: RetryableAnswer,
      });
    } catch (err) {
      if (err instanceof RetryableAnswer) return { ok: false, error: err.error };
      throw err;
    }
  }

  /**
   * Opens a WebSocket to an upgrade route such as `/v1/queues/q/consume?prefetch=10`: through the
   * configured `fetch` when one is given (a Worker's service binding, the Worker's own fetch in
   * tests), else with the global `WebSocket`, the token as `?token=`. Rejects when the server
   * answers the upgrade with anything but 101, with the answer's {@link ApiError} (see
   * {@link openWebSocket} for how a global `WebSocket` learns it).
   */
  async openSocket(path: string): Promise<ClientSocket> {
    const url = new URL(path, this.#options.baseUrl);
    const send = this.#options.fetch;
    if (send)
      return upgradeThrough((u, headers) => send(new Request(u, { headers })), url, this.#options.token);
    return openWebSocket(url, this.#options.token);
  }

  #build(method: string, path: string, body: unknown, extra: Record<string, string> = {}): Request {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.#options.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = new URL(path, this.#options.baseUrl);
    return new Request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }
}

/** Sends a request for `url` with `headers`: a `fetch`, or a service binding's, in its own shape. */
export type UpgradeRequest = (url: string, headers: Record<string, string>) => Promise<Response>;

/**
 * Opens a WebSocket through a fetch that answers upgrades with a `webSocket` (Workers' `fetch`, a
 * service binding to the Worker, the Worker's own fetch in tests), the token as a header. Rejects
 * with the refusal's {@link ApiError} when the answer is not a socket.
 */
export async function upgradeThrough(
  request: UpgradeRequest,
  url: URL,
  token: string,
): Promise<ClientSocket> {
  const res = await request(url.toString(), { upgrade: "websocket", authorization: `Bearer ${token}` });
  const ws = (res as Response & { webSocket?: (ClientSocket & { accept(): void }) | null }).webSocket;
  if (res.status !== 101 || !ws) throw await upgradeRefusal(res);
  ws.accept();
  return ws;
}

/**
 * Opens a global `WebSocket` to the http(s) `url`, the token as `?token=`, and resolves once it is
 * open. A refused upgrade does not say why, so the same URL is then asked over plain HTTP with the
 * token, where Switchyard checks the token and its scopes before the upgrade: a `401` or `403` there
 * rejects with that {@link ApiError} (the token will not do: see socket-end.ts), anything else
 * with `unavailable` (worth another try).
 */
export async function openWebSocket(url: URL, token: string): Promise<ClientSocket> {
  const target = new URL(url);
  target.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  target.searchParams.set("token", token);
  const ws = new WebSocket(target.toString());
  const opened = await new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true), { once: true });
    // Node reports a refused handshake with `error` alone; browsers add a `close`.
    ws.addEventListener("error", () => resolve(false), { once: true });
    ws.addEventListener("close", () => resolve(false), { once: true });
  });
  // The DOM's listener types name its own event classes; the events carry what ClientSocket reads.
  if (opened) return ws as unknown as ClientSocket;
  const probe = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
  if (probe && (probe.status === 401 || probe.status === 403)) throw await upgradeRefusal(probe);
  await probe?.body?.cancel();
  throw new ApiError("unavailable", `WebSocket upgrade to ${url.pathname} failed`);
}
