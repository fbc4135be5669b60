/**
 * The state client for edge apps: get/put/cas/increment/txn on a namespace, `watch(prefix, cb)`
 * that resumes after a dropped connection without gaps, and a read cache that a subscription
 * keeps coherent. Works over HTTP ({@link httpState}) and over a service binding ({@link rpcState}).
 */
import { ApiError, fail, isErrorCode, ok, type Result, unwrap } from "../errors.ts";
import { type BackoffPolicy, backoffDelay } from "../resilience/backoff.ts";
import type {
  Deleted,
  IncrementInput,
  IncrementResult,
  Json,
  ListPage,
  PreconditionInput,
  PutResult,
  StateEntry,
  StateMessage,
  TxnResult,
} from "../schemas/state.ts";
import type { HttpTransport } from "./http.ts";

/** Where a subscription starts: keys under `prefix`, replaying changes after `fromVersion`. */
export interface WatchOptions {
  prefix?: string;
  fromVersion?: number;
}

/** A running subscription. */
export interface StateWatch {
  close(): void;
}

/** A transaction as sent: compares, then the `success` or `failure` operations. */
export interface TxnRequestInput {
  compare?: Array<{ key: string; op?: "==" | "!=" | "<" | ">"; version?: number; value?: unknown }>;
  success?: TxnOpRequest[];
  failure?: TxnOpRequest[];
}

/** One operation of a transaction branch. */
export type TxnOpRequest =
  | { op: "put"; key: string; value: unknown; ttlMs?: number }
  | { op: "delete"; key: string }
  | { op: "get"; key: string };

/** The state operations, as both transports offer them (the RPC target implements it directly). */
export interface StateApi {
  get(namespace: string, key: string): Promise<Result<StateEntry>>;
  put(
    namespace: string,
    key: string,
    input: { value: unknown; ttlMs?: number },
    pre?: PreconditionInput,
  ): Promise<Result<PutResult>>;
  delete(namespace: string, key: string, pre?: PreconditionInput): Promise<Result<Deleted>>;
  increment(
    namespace: string,
    key: string,
    input?: Partial<IncrementInput>,
  ): Promise<Result<IncrementResult>>;
  list(
    namespace: string,
    query?: { prefix?: string; limit?: number; cursor?: string },
  ): Promise<Result<ListPage>>;
  txn(namespace: string, input: TxnRequestInput): Promise<Result<TxnResult>>;
  /** Delivers every message of a subscription to `onMessage`; `onClose` runs when it ends. */
  watch(
    namespace: string,
    options: WatchOptions,
    onMessage: (message: StateMessage) => void,
    onClose?: () => void,
  ): Promise<Result<StateWatch>>;
}

/** What a socket connector calls back with. */
export interface SocketHandlers {
  onMessage(text: string): void;
  onClose(): void;
}

/** Opens a subscription socket to `path` (the subscribe route with its query) on the server. */
export type SocketConnector = (path: string, handlers: SocketHandlers) => Promise<Result<StateWatch>>;

/** Where Switchyard answers and the token it accepts. */
export interface SocketOptions {
  baseUrl: string;
  token: string;
}

/**
 * Connects with the global `WebSocket` (Node 22, browsers, Workers), passing the token as
 * `?token=` since a WebSocket handshake cannot carry headers there.
 */
export function webSocketConnector(options: SocketOptions): SocketConnector {
  return (path, handlers) =>
    new Promise((resolve) => {
      const target = new URL(path, options.baseUrl);
      target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
      target.searchParams.set("token", options.token);
      const ws = new WebSocket(target.toString());
      ws.addEventListener("message", (event) => handlers.onMessage(String(event.data)));
      ws.addEventListener("open", () => resolve(ok({ close: () => ws.close(1000) })));
      ws.addEventListener("close", () => {
        resolve(fail("unavailable", `subscription to ${path} failed or closed`));
        handlers.onClose();
      });
    });
}

/** The part of a Workers `WebSocket` a fetch upgrade hands back. */
interface AcceptedSocket {
  accept(): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: () => void): void;
}

/**
 * Connects through a `fetch` that answers upgrades with a `webSocket` (Workers' `fetch`, or a
 * service binding's to Switchyard's default entrypoint), sending the token as a header.
 */
export function fetchConnector(
  options: SocketOptions & { fetch: (request: Request) => Promise<Response> },
): SocketConnector {
  return async (path, handlers) => {
    const headers = { Upgrade: "websocket", authorization: `Bearer ${options.token}` };
    const res = await options.fetch(new Request(new URL(path, options.baseUrl), { headers }));
    const ws = (res as Response & { webSocket?: AcceptedSocket | null }).webSocket;
    if (!ws) {
      const body = (await res.json().catch(() => undefined)) as {
        error?: { code?: unknown; message?: string };
      };
      const code = isErrorCode(body?.error?.code) ? body.error.code : "unavailable";
      return fail(code, body?.error?.message ?? `subscription refused with HTTP ${res.status}`);
    }
    ws.accept();
    ws.addEventListener("message", (event) => handlers.onMessage(String(event.data)));
    ws.addEventListener("close", () => handlers.onClose());
    return ok({ close: () => ws.close(1000) });
  };
}

const enc = encodeURIComponent;
const nsPath = (ns: string) => `/v1/state/${enc(ns)}`;
const keyPath = (ns: string, key: string) => `${nsPath(ns)}/${enc(key)}`;

/** `If-Match` / `If-None-Match` headers for a precondition. */
function conditionHeaders(pre: PreconditionInput = {}): Record<string, string> {
  const etag = (v: number | "*") => (v === "*" ? "*" : `"${v}"`);
  const headers: Record<string, string> = {};
  if (pre.ifMatch !== undefined) headers["if-match"] = etag(pre.ifMatch);
  if (pre.ifNoneMatch !== undefined) headers["if-none-match"] = etag(pre.ifNoneMatch);
  return headers;
}

/** State operations over HTTP; subscriptions open sockets with `connect`. */
export function httpState(http: HttpTransport, connect: SocketConnector): StateApi {
  return {
    get: (ns, key) => http.request("GET", keyPath(ns, key)),
    put: (ns, key, input, pre) =>
      http.request("PUT", keyPath(ns, key), input, { headers: conditionHeaders(pre) }),
    delete: (ns, key, pre) =>
      http.request("DELETE", keyPath(ns, key), undefined, { headers: conditionHeaders(pre) }),
    increment: (ns, key, input = {}) => http.request("POST", `${keyPath(ns, key)}/increment`, input),
    list: (ns, query = {}) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
      return http.request("GET", `${nsPath(ns)}?${params}`);
    },
    txn: (ns, input) => http.request("POST", `${nsPath(ns)}/txn`, input),
    watch: async (ns, options, onMessage, onClose) => {
      const query = new URLSearchParams();
      if (options.prefix) query.set("prefix", options.prefix);
      if (options.fromVersion !== undefined) query.set("fromVersion", String(options.fromVersion));
      return connect(`${nsPath(ns)}/subscribe?${query}`, {
        onMessage: (text) => onMessage(JSON.parse(text) as StateMessage),
        onClose: () => onClose?.(),
      });
    },
  };
}

/**
 * A service binding to Switchyard's `SwitchyardRpc` entrypoint. Its `state()` is a `StateRpc`,
 * which implements {@link StateApi}; the binding's own stub type maps every result through the
 * runtime's serialisation types, which cannot follow the recursive JSON type, so it is not
 * spelled out here.
 */
export interface StateRpcBinding {
  state(): object;
}

/**
 * State operations over a service binding: no HTTP, no JSON, no auth header. Subscriptions are
 * relayed by the entrypoint and arrive as calls of `onMessage`.
 * @example const sessions = new StateClient(rpcState(env.SWITCHYARD), "sessions");
 */
export function rpcState(binding: StateRpcBinding): StateApi {
  const state = () => binding.state() as StateApi;
  return {
    get: (ns, key) => state().get(ns, key),
    put: (ns, key, input, pre) => state().put(ns, key, input, pre),
    delete: (ns, key, pre) => state().delete(ns, key, pre),
    increment: (ns, key, input) => state().increment(ns, key, input),
    list: (ns, query) => state().list(ns, query),
    txn: (ns, input) => state().txn(ns, input),
    watch: (ns, options, onMessage, onClose) => state().watch(ns, options, onMessage, onClose),
  };
}

/** Options of a write. */
export interface WriteOptions {
  ttlMs?: number;
}

/** What `cas` returns: the new version, or the version that was there instead. */
export type CasOutcome = { ok: true; version: number } | { ok: false; currentVersion: number };

/** A live subscription from {@link StateClient.watch}. */
export interface Watcher {
  /** The namespace version the watcher has caught up to. */
  readonly version: number;
  /** Whether the socket is connected (false while it reconnects). */
  readonly connected: boolean;
  close(): void;
}

/** Options of {@link StateClient.watch}. */
export interface WatcherOptions {
  /** Replay the changes after this version first (default: the namespace's version now). */
  fromVersion?: number;
  /** Called when the connection drops (false) and is back (true). */
  onConnection?: (connected: boolean) => void;
  /** Waits between reconnection attempts (default exponential from 100 ms, full jitter, at most 5 s). */
  backoff?: BackoffPolicy;
}

const RECONNECT_BACKOFF: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 100,
  maxDelayMs: 5000,
  jitter: "full",
};

/**
 * Delivers a prefix's changes to a callback exactly once and in order, across reconnections: it
 * resumes from the last version it delivered, and drops what a replay repeats.
 */
class ResumingWatcher implements Watcher {
  version: number;
  connected = false;
  readonly #api: StateApi;
  readonly #namespace: string;
  readonly #prefix: string;
  readonly #onMessage: (message: StateMessage) => void;
  readonly #options: WatcherOptions;
  #socket: StateWatch | undefined;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    api: StateApi,
    namespace: string,
    prefix: string,
    from: number,
    onMessage: (message: StateMessage) => void,
    options: WatcherOptions,
  ) {
    this.#api = api;
    this.#namespace = namespace;
    this.#prefix = prefix;
    this.version = from;
    this.#onMessage = onMessage;
    this.#options = options;
  }

  /** Connects once; a failure is the caller's to handle. */
  async connect(): Promise<Result<void>> {
    const socket = await this.#api.watch(
      this.#namespace,
      { prefix: this.#prefix, fromVersion: this.version },
      (message) => this.#deliver(message),
      () => this.#dropped(),
    );
    if (!socket.ok) return socket;
    if (this.#closed) {
      socket.value.close();
      return ok(undefined);
    }
    this.#socket = socket.value;
    this.connected = true;
    this.#options.onConnection?.(true);
    return ok(undefined);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      // Over RPC `close()` is a call that returns a promise; a session that already ended rejects it.
      void Promise.resolve(this.#socket?.close()).catch(() => undefined);
    } catch {
      // A socket that is already closed.
    }
  }

  #deliver(message: StateMessage): void {
    if (this.#closed || message.version <= this.version) return;
    this.version = message.version;
    this.#onMessage(message);
  }

  #dropped(attempt = 1): void {
    if (this.#closed) return;
    if (this.connected) {
      this.connected = false;
      this.#options.onConnection?.(false);
    }
    const delay = backoffDelay(this.#options.backoff ?? RECONNECT_BACKOFF, attempt, Math.random);
    this.#timer = setTimeout(async () => {
      const result = await this.connect().catch((err: unknown) => fail("unavailable", String(err)));
      if (!result.ok) this.#dropped(attempt + 1);
    }, delay);
  }
}

/** A cached read: the value and the key's version (0 and no value when absent). */
export interface CachedRead {
  key: string;
  value?: Json;
  version: number;
}

interface CacheRecord extends CachedRead {
  /** The namespace version this record is known to be current at. */
  asOf: number;
}

/** Options of {@link StateClient.cache}. */
export interface CacheOptions {
  /** Records kept before the oldest are dropped (default 10 000). */
  maxEntries?: number;
  /** Called with each message once the cache has applied it. */
  onChange?: (message: StateMessage) => void;
}

/**
 * Reads under a prefix served from memory, kept current by a subscription. Every record knows
 * the namespace version it is current at: a change applies only when newer, a fetched read only
 * when nothing newer has been seen, so a read after the subscription saw a change never returns
 * the older value. While the socket is down the cache is emptied and bypassed.
 */
export class StateCache {
  readonly #client: StateClient;
  readonly #prefix: string;
  readonly #options: CacheOptions;
  readonly #records = new Map<string, CacheRecord>();
  #watcher: Watcher | undefined;

  constructor(client: StateClient, prefix: string, options: CacheOptions = {}) {
    this.#client = client;
    this.#prefix = prefix;
    this.#options = options;
  }

  /** Subscribes; resolves once the cache is live. */
  async start(): Promise<void> {
    this.#watcher = await this.#client.watch(
      this.#prefix,
      (m) => {
        this.#apply(m);
        this.#options.onChange?.(m);
      },
      {
        onConnection: () => this.#records.clear(),
      },
    );
  }

  /** The value of `key`: from memory when known, else read through (as of a namespace version). */
  async get(key: string): Promise<CachedRead> {
    const live = this.#watcher?.connected === true && key.startsWith(this.#prefix);
    const known = live ? this.#records.get(key) : undefined;
    if (known) return view(known);
    const read = unwrap(
      await this.#client.api.txn(this.#client.namespace, { success: [{ op: "get", key }] }),
    );
    const result = read.results[0];
    const record: CacheRecord = { key, version: result?.version ?? 0, asOf: read.version };
    if (result?.op === "get" && result.value !== undefined) record.value = result.value;
    if (!live) return view(record);
    const newer = this.#records.get(key);
    if (newer && newer.asOf >= record.asOf) return view(newer);
    this.#store(record);
    return view(record);
  }

  /** How many keys are held. */
  get size(): number {
    return this.#records.size;
  }

  /** Ends the subscription and forgets everything. */
  close(): void {
    this.#watcher?.close();
    this.#records.clear();
  }

  #apply(message: StateMessage): void {
    if (message.type === "reset") {
      this.#records.clear();
      return;
    }
    const held = this.#records.get(message.key);
    if (held && held.asOf >= message.version) return;
    const record: CacheRecord = { key: message.key, version: 0, asOf: message.version };
    if (message.op === "set") {
      record.version = message.version;
      record.value = message.value as Json;
    }
    this.#store(record);
  }

  #store(record: CacheRecord): void {
    this.#records.delete(record.key);
    this.#records.set(record.key, record);
    if (this.#records.size > (this.#options.maxEntries ?? 10_000)) {
      const oldest = this.#records.keys().next().value;
      if (oldest !== undefined) this.#records.delete(oldest);
    }
  }
}

function view(record: CacheRecord): CachedRead {
  return record.value === undefined
    ? { key: record.key, version: record.version }
    : { key: record.key, value: record.value, version: record.version };
}

/**
 * One namespace's state, with failures thrown as {@link ApiError}s.
 * @example
 * const counters = new StateClient(httpState(http, webSocketConnector({ baseUrl, token })), "counters");
 * await counters.increment("visits");
 * const done = await counters.cas("job/7", 3, { status: "done" });
 */
export class StateClient {
  readonly api: StateApi;
  readonly namespace: string;

  constructor(api: StateApi, namespace: string) {
    this.api = api;
    this.namespace = namespace;
  }

  /** The entry, or undefined when absent or expired. */
  async get(key: string): Promise<StateEntry | undefined> {
    const result = await this.api.get(this.namespace, key);
    if (!result.ok && result.error.code === "not_found") return undefined;
    return unwrap(result);
  }

  /** Writes unconditionally; returns the new version. */
  async put(key: string, value: Json, options: WriteOptions = {}): Promise<number> {
    return unwrap(await this.api.put(this.namespace, key, { value, ...options })).version;
  }

  /** Writes only if the key is at `expectedVersion` (0: absent). */
  async cas(
    key: string,
    expectedVersion: number,
    value: Json,
    options: WriteOptions = {},
  ): Promise<CasOutcome> {
    const result = await this.api.put(
      this.namespace,
      key,
      { value, ...options },
      { ifMatch: expectedVersion },
    );
    if (result.ok) return { ok: true, version: result.value.version };
    if (result.error.code !== "version_mismatch") throw ApiError.from(result.error);
    return { ok: false, currentVersion: Number(result.error.details?.currentVersion ?? 0) };
  }

  /** Adds `by` atomically (an absent key counts from 0); returns the new value. */
  async increment(key: string, by = 1, options: WriteOptions = {}): Promise<number> {
    return unwrap(await this.api.increment(this.namespace, key, { by, ...options })).value;
  }

  /** Deletes; false when the key was absent. `ifMatch` makes it conditional. */
  async delete(key: string, ifMatch?: number): Promise<boolean> {
    const result = await this.api.delete(this.namespace, key, ifMatch === undefined ? {} : { ifMatch });
    if (!result.ok && result.error.code === "not_found") return false;
    unwrap(result);
    return true;
  }

  /** Every key under `prefix`, in key order, page by page. */
  async *keys(prefix = "", pageSize = 1000): AsyncGenerator<ListPage["items"][number]> {
    let cursor: string | undefined;
    do {
      const query = cursor === undefined ? { prefix, limit: pageSize } : { prefix, limit: pageSize, cursor };
      const page = unwrap(await this.api.list(this.namespace, query));
      yield* page.items;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Runs an etcd-style transaction. */
  async txn(input: TxnRequestInput): Promise<TxnResult> {
    return unwrap(await this.api.txn(this.namespace, input));
  }

  /** The namespace's current version. */
  async version(): Promise<number> {
    return (await this.txn({})).version;
  }

  /**
   * Calls `onMessage` for every change under `prefix` after `fromVersion` (default: now), in
   * order and exactly once, reconnecting and resuming when the connection drops. A `reset`
   * message means changes were missed for good: re-read what you depend on.
   */
  async watch(
    prefix: string,
    onMessage: (message: StateMessage) => void,
    options: WatcherOptions = {},
  ): Promise<Watcher> {
    const from = options.fromVersion ?? (await this.version());
    const watcher = new ResumingWatcher(this.api, this.namespace, prefix, from, onMessage, options);
    unwrap(await watcher.connect());
    return watcher;
  }

  /** A read cache for keys under `prefix`, kept coherent by a subscription. */
  async cache(prefix = "", options: CacheOptions = {}): Promise<StateCache> {
    const cache = new StateCache(this, prefix, options);
    await cache.start();
    return cache;
  }
}
