/**
 * Routing over the cluster for Workers and Durable Objects: writes to the primary, reads to the
 * nearest healthy replica within a lag bound (else the primary), and read-your-writes — after a
 * write, a replica serves reads only once it has replayed that write's WAL position.
 *
 * @example
 * const db = createDb(env);                                   // workers/db/client.ts
 * await db.write((sql) => sql`insert into orders ${sql(order)}`);
 * const rows = await db.read((sql) => sql`select * from orders where id = ${id}`, { maxLagMs: 500, region: "weur" });
 * ctx.waitUntil(db.close());
 */
import { lsnReached } from "./lsn.ts";
import type { PoolManager, PoolStats } from "./pool.ts";
import {
  hasReplayed,
  isConnectionError,
  isReadOnlyError,
  type PgConnection,
  writePosition,
} from "./postgres.ts";
import { cachedReadCandidates, knownReplayed, type ReadOptions, type Topology } from "./topology.ts";

/** Where routing learns the cluster's state: the cluster object, usually through a cache. */
export interface TopologySource {
  /** The topology; a cached one may be returned as is, without a promise. */
  get(): Topology | Promise<Topology>;
  /** Forgets a cached copy after a node failed, so that the next call asks again. */
  invalidate(): void;
}

/** No node that may serve the operation is reachable, or the primary refused a write. */
export class DbUnavailableError extends Error {
  override readonly name = "DbUnavailableError";
  readonly node: string | undefined;
  constructor(message: string, node?: string, cause?: unknown) {
    super(message, { cause });
    this.node = node;
  }
}

/** A replica has not yet replayed the caller's last write: try another node. */
class NotCaughtUp extends Error {}

/** Reads go to the primary until a write's position is known again. */
const POSITION_UNKNOWN = "unknown";

export interface DbOptions {
  topology: TopologySource;
  /** One pool per node, named after the node. */
  pools: PoolManager<PgConnection>;
  /** A write position from an earlier request (see {@link Db.lastWriteLsn}): reads will see it. */
  afterLsn?: string;
}

/** The router: one per request (Worker) or per object (Durable Object), owning its pools. */
export class Db {
  readonly #topology: TopologySource;
  readonly #pools: PoolManager<PgConnection>;
  #lastWriteLsn: string | undefined;

  constructor(options: DbOptions) {
    this.#topology = options.topology;
    this.#pools = options.pools;
    this.#lastWriteLsn = options.afterLsn;
  }

  /**
   * The WAL position of this router's last write, to hand to a later request's router as
   * `afterLsn` (e.g. in a cookie) so that read-your-writes holds across requests.
   */
  get lastWriteLsn(): string | undefined {
    return this.#lastWriteLsn === POSITION_UNKNOWN ? undefined : this.#lastWriteLsn;
  }

  /** Runs `fn` on the primary and remembers the position of what it wrote. */
  async write<T>(fn: (sql: PgConnection) => Promise<T>): Promise<T> {
    const topology = await this.#topology.get();
    return this.#onPrimary(topology, async (sql) => {
      const value = await fn(sql);
      this.#noteWrite(await writePosition(sql).catch(() => POSITION_UNKNOWN));
      return value;
    });
  }

  /**
   * Runs `fn` (which must only read) on the best replica within the bounds that has replayed
   * this router's last write, trying the next one when a replica is unreachable, else on the
   * primary.
   */
  read<T>(fn: (sql: PgConnection) => Promise<T>, options: ReadOptions = {}): Promise<T> {
    let topology: Topology | Promise<Topology>;
    try {
      topology = this.#topology.get();
    } catch (err) {
      return Promise.reject(err);
    }
    // A cached topology comes back synchronously: then the read starts without waiting a tick.
    return topology instanceof Promise
      ? topology.then((t) => this.#read(t, fn, options))
      : this.#read(topology, fn, options);
  }

  async #read<T>(
    topology: Topology,
    fn: (sql: PgConnection) => Promise<T>,
    options: ReadOptions,
  ): Promise<T> {
    const after = this.#lastWriteLsn;
    if (after !== POSITION_UNKNOWN) {
      for (const node of cachedReadCandidates(topology, options)) {
        try {
          return await this.#pools.get(node.name).use(async (sql) => {
            if (after !== undefined && !knownReplayed(node, after) && !(await hasReplayed(sql, after))) {
              throw new NotCaughtUp();
            }
            return fn(sql);
          });
        } catch (err) {
          if (err instanceof NotCaughtUp) continue;
          if (!isConnectionError(err)) throw err;
          this.#topology.invalidate();
        }
      }
    }
    return this.#onPrimary(topology, fn);
  }

  /** Every pool's statistics and the connection budget. */
  stats(): { pools: Record<string, PoolStats>; budget: { total: number; reserved: number } } {
    return this.#pools.stats();
  }

  /** Closes the pools; in a Worker, pass it to `ctx.waitUntil`. */
  close(): Promise<void> {
    return this.#pools.close();
  }

  async #onPrimary<T>(topology: Topology, fn: (sql: PgConnection) => Promise<T>): Promise<T> {
    const primary = topology.primary;
    try {
      return await this.#pools.get(primary).use(fn);
    } catch (err) {
      if (!isConnectionError(err) && !isReadOnlyError(err)) throw err;
      this.#topology.invalidate();
      throw new DbUnavailableError(`primary ${primary} is unavailable`, primary, err);
    }
  }

  #noteWrite(lsn: string): void {
    const last = this.#lastWriteLsn;
    if (
      lsn === POSITION_UNKNOWN ||
      last === undefined ||
      last === POSITION_UNKNOWN ||
      !lsnReached(last, lsn)
    ) {
      this.#lastWriteLsn = lsn;
    }
  }
}
