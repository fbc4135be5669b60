/** The queue operations over HTTP: what a producer or consumer outside Cloudflare uses. */
import { type ErrorInfo, isErrorCode, type Result } from "../errors.ts";
import type { QueueTransport } from "./queue-transport.ts";

export interface HttpTransportOptions {
  /** Where Switchyard answers, e.g. `https://switchyard.example.workers.dev`. */
  baseUrl: string;
  /** A bearer token from `API_TOKENS`. */
  token: string;
  /** A `fetch` to use instead of the global one (tests, custom agents). */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** The error a response carries, or one made up from its status when the body is not ours. */
function errorOf(status: number, body: unknown): ErrorInfo {
  const error = (body as { error?: Partial<ErrorInfo> } | undefined)?.error;
  if (error && isErrorCode(error.code) && typeof error.message === "string") return error as ErrorInfo;
  return { code: status >= 500 ? "unavailable" : "invalid_request", message: `HTTP ${status}` };
}

function queryString(input: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * A {@link QueueTransport} over `fetch`. Contract errors come back as failed results; a network
 * failure rejects.
 * @example new QueueClient(httpQueueTransport({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" }))
 */
export function httpQueueTransport(options: HttpTransportOptions): QueueTransport {
  const base = options.baseUrl.replace(/\/+$/, "");
  const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  async function request<T>(method: string, path: string, body?: unknown): Promise<Result<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await send(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return res.ok ? { ok: true, value: json as T } : { ok: false, error: errorOf(res.status, json) };
  }
  const at = (queue: string, rest = "") => `/v1/queues/${encodeURIComponent(queue)}${rest}`;
  const task = (queue: string, id: string, verb = "") =>
    at(queue, `/tasks/${encodeURIComponent(id)}${verb ? `/${verb}` : ""}`);
  return {
    enqueue: (queue, input) => request("POST", at(queue, "/tasks"), input),
    lease: (queue, input) => request("POST", at(queue, "/lease"), input),
    ack: (queue, id, input) => request("POST", task(queue, id, "ack"), input),
    ackBatch: (queue, input) => request("POST", at(queue, "/ack"), input),
    nack: (queue, id, input) => request("POST", task(queue, id, "nack"), input),
    extend: (queue, id, input) => request("POST", task(queue, id, "extend"), input),
    task: (queue, id) => request("GET", task(queue, id)),
    stats: (queue) => request("GET", at(queue, "/stats")),
    dead: (queue, input) => request("GET", at(queue, `/dead${queryString(input)}`)),
    redrive: (queue, input) => request("POST", at(queue, "/dead/redrive"), input),
    purge: (queue, input) => request("DELETE", at(queue, `/tasks${queryString(input)}`)),
  };
}
