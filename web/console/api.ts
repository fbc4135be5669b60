/**
 * The console's calls to the Switchyard API: the operator's token (kept in sessionStorage, sent
 * as `Authorization`, and as `?token=` on WebSocket upgrades), and what the token may do.
 */
import { answerJson } from "../../shared/answer-json.ts";

const TOKEN_KEY = "switchyard.console.token";

/** The token the operator pasted, for this tab only. */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer: the status and the parsed JSON body (undefined when empty or not JSON). */
export interface Answer<T = unknown> {
  status: number;
  ok: boolean;
  body: T;
  headers: Headers;
}

/** The contract's error body. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

/** Called when the server refuses the token (401): the console goes back to its login. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

/** Calls `/v1/...` with the token. Never throws for an HTTP status; a network failure is status 0. */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${token.get() ?? ""}`, ...headers },
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    return {
      status: 0,
      ok: false,
      body: { error: { message: "network error" } } as T,
      headers: new Headers(),
    };
  }
  const parsed = answerJson(await res.text()) as T;
  if (res.status === 401) onUnauthorized();
  return { status: res.status, ok: res.ok, body: parsed, headers: res.headers };
}

/**
 * Whether the server lacks the route itself (an older or partial deployment): `404` for an unknown
 * path, `405` when the path exists for other methods only.
 */
export function routeMissing(answer: Answer): boolean {
  const error = (answer.body as ApiErrorBody | undefined)?.error;
  return answer.status === 405 || (answer.status === 404 && /\bno route\b/i.test(error?.message ?? ""));
}

/** A one-line explanation of a failed answer. */
export function explain(answer: Answer): string {
  const error = (answer.body as ApiErrorBody | undefined)?.error;
  if (answer.status === 0) return "The server cannot be reached.";
  if (answer.status === 403) return `Forbidden: your token may not do this (${error?.message ?? "403"}).`;
  if (routeMissing(answer)) return "This server does not offer this route yet.";
  return `${answer.status} ${error?.code ?? ""}: ${error?.message ?? "failed"}`;
}

/** A WebSocket URL for `path` on this origin, with the token as `?token=`. */
export function socketUrl(path: string, params: Record<string, string | undefined> = {}): string {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const [name, value] of Object.entries(params)) if (value) url.searchParams.set(name, value);
  url.searchParams.set("token", token.get() ?? "");
  return url.toString();
}

/** Capabilities whose admin actions the console offers. */
export type Capability = "queues" | "topics" | "state" | "breakers" | "db";

/**
 * A request that needs the action the console's buttons need, with a body no route accepts. The
 * contract checks scopes (403) before the body (400), so 400 means "allowed" and changes nothing.
 */
function probe(capability: Capability, name: string): [string, string] {
  const n = encodeURIComponent(name);
  switch (capability) {
    case "queues":
      return ["POST", `/v1/queues/${n}/dead/redrive`];
    case "topics":
      return ["PUT", `/v1/topics/${n}/config`];
    case "state":
      return ["PUT", `/v1/state/${n}/console-probe`];
    case "breakers":
      return ["PUT", `/v1/breakers/${n}`];
    case "db":
      return ["POST", "/v1/db/failover"];
  }
}

let isAdmin: Promise<boolean> | undefined;
const allowed = new Map<string, Promise<boolean>>();

/** Forgets what was learnt about the token (after a new login). */
export function resetPermissions(): void {
  isAdmin = undefined;
  allowed.clear();
}

/**
 * Whether to show the action buttons for `capability` on `name`: yes for an admin token (it may
 * list `/v1/tokens`); else yes when the probe is not refused with 403. A refusal later still shows
 * its 403 next to the button.
 */
export function mayAct(capability: Capability, name: string): Promise<boolean> {
  isAdmin ??= api("GET", "/v1/tokens?limit=1").then((a) => a.ok);
  const key = `${capability}:${name}`;
  let answer = allowed.get(key);
  if (!answer) {
    answer = isAdmin.then(async (admin) => {
      if (admin) return true;
      const [method, path] = probe(capability, name);
      const res = await api(method, path, { consoleProbe: true });
      return res.status !== 403;
    });
    allowed.set(key, answer);
  }
  return answer;
}
