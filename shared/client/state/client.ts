/** One namespace's state for an app: reads, writes, compare-and-set, watches and caches. */
import { ApiError, unwrap } from "../../errors.ts";
import type { Json, ListPage, ReadResult, StateEntry, StateMessage, TxnResult } from "../../schemas/state.ts";
import { type CacheOptions, StateCache } from "./cache.ts";
import type { StateApi, TxnRequestInput } from "./transport.ts";
import { ResumingWatcher, type Watcher, type WatcherOptions } from "./watcher.ts";

/** Options of a write. */
export interface WriteOptions {
  ttlMs?: number;
}

/** What `cas` returns: the new version, or the version that was there instead. */
export type CasOutcome = { ok: true; version: number } | { ok: false; currentVersion: number };

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

  /**
   * Up to 128 keys at one namespace version, in the order asked (an absent key has `version: 0`
   * and no value). Watching from the answer's `version` misses no later change. Needs only `read`.
   */
  async read(keys: string[]): Promise<ReadResult> {
    return unwrap(await this.api.read(this.namespace, { keys }));
  }

  /** The namespace's current version (needs only `read`). */
  async version(): Promise<number> {
    return (await this.read([])).version;
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
