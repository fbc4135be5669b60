/** A read cache for keys under a prefix, kept coherent by a subscription. */
import type { Json, StateMessage } from "../../schemas/state.ts";
import type { StateClient } from "./client.ts";
import type { Watcher } from "./watcher.ts";

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
    const read = await this.#client.read([key]);
    const found = read.keys[0];
    const record: CacheRecord = { key, version: found?.version ?? 0, asOf: read.version };
    if (found?.value !== undefined) record.value = found.value as Json;
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
