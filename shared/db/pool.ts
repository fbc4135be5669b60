/**
 * Connection pools for the request or object that owns them: acquire with a timeout, release,
 * reuse of idle connections, statistics, and a maximum that grows while callers wait and shrinks
 * when they stop. A Worker invocation may hold at most {@link PLATFORM_CONNECTION_LIMIT} open
 * connections, so every pool draws its maximum from a shared {@link ConnectionBudget}.
 *
 * Connections are opaque: a {@link Connector} opens and closes them (postgres.js over Hyperdrive in
 * production, fakes in the unit tests). Time comes from an injectable {@link Clock}.
 */
import { type Clock, systemClock } from "../resilience/clock.ts";

/** Simultaneous open connections a Worker invocation may hold (Cloudflare Workers limits). */
export const PLATFORM_CONNECTION_LIMIT = 6;

/** Opens and closes one kind of connection. */
export interface Connector<C> {
  open(): Promise<C>;
  close(connection: C): Promise<void>;
}

/** How a pool sizes itself and how long callers wait. */
export interface PoolOptions {
  /** Lowest maximum (and the maximum a new pool starts with). Default 1. */
  min?: number;
  /** Highest maximum, at most {@link PLATFORM_CONNECTION_LIMIT}. Default 6. */
  max?: number;
  /** How long `acquire` waits for a connection before {@link PoolExhaustedError}. Default 5000. */
  acquireTimeoutMs?: number;
  /** Length of the window over which waiting is measured to resize the pool. Default 100. */
  scaleIntervalMs?: number;
  /** Total wait within a window that makes the pool grow. Default 1. */
  scaleUpWaitMs?: number;
  /** Whether an error thrown by `use` means the connection is unusable (closed, not reused). */
  isBroken?: (err: unknown) => boolean;
}

/** A pool's counters; `acquired`, `timeouts`, `errors`, `opened`, `closed`, `waitMs` only grow. */
export interface PoolStats {
  name: string;
  min: number;
  max: number;
  /** The maximum in force now, within [min, max]. */
  limit: number;
  /** Connections open or being opened. */
  open: number;
  inUse: number;
  idle: number;
  /** Callers queued for a connection. */
  waiting: number;
  acquired: number;
  timeouts: number;
  /** Failed opens plus connections released as broken. */
  errors: number;
  opened: number;
  closed: number;
  /** Milliseconds callers spent queued, in all. */
  waitMs: number;
}

/** `acquire` found no connection within its timeout. */
export class PoolExhaustedError extends Error {
  override readonly name = "PoolExhaustedError";
  readonly pool: string;
  readonly waitedMs: number;
  constructor(pool: string, waitedMs: number) {
    super(`pool ${pool} has no free connection after ${waitedMs} ms`);
    this.pool = pool;
    this.waitedMs = waitedMs;
  }
}

/** The pool was closed before or while the caller waited. */
export class PoolClosedError extends Error {
  override readonly name = "PoolClosedError";
  constructor(pool: string) {
    super(`pool ${pool} is closed`);
  }
}

/**
 * The connections an invocation may still open, shared by its pools: a pool reserves a slot
 * before it raises its maximum and returns it when it lowers it.
 */
export class ConnectionBudget {
  readonly total: number;
  #reserved = 0;

  constructor(total: number = PLATFORM_CONNECTION_LIMIT) {
    this.total = total;
  }

  get reserved(): number {
    return this.#reserved;
  }

  /** Reserves `n` slots; false (and nothing reserved) when fewer are free. */
  take(n: number): boolean {
    if (this.#reserved + n > this.total) return false;
    this.#reserved += n;
    return true;
  }

  /** Returns `n` slots. */
  give(n: number): void {
    this.#reserved = Math.max(0, this.#reserved - n);
  }
}

/** A connection lent by a pool; release it exactly once (later calls are ignored). */
export interface Lease<C> {
  readonly connection: C;
  /** Returns the connection; `broken` closes it instead of keeping it for reuse. */
  release(broken?: boolean): void;
}

interface Waiter<C> {
  since: number;
  timer: unknown;
  resolve: (lease: Lease<C>) => void;
  reject: (err: Error) => void;
}

function checkOptions(name: string, min: number, max: number, acquireTimeoutMs: number): void {
  const bad = (what: string) => new RangeError(`pool ${name}: ${what}`);
  if (!Number.isInteger(min) || min < 1) throw bad(`min must be an integer >= 1, got ${min}`);
  if (!Number.isInteger(max) || max < min || max > PLATFORM_CONNECTION_LIMIT) {
    throw bad(`max must be an integer in [min, ${PLATFORM_CONNECTION_LIMIT}], got ${max}`);
  }
  if (!(acquireTimeoutMs >= 0)) throw bad(`acquireTimeoutMs must be >= 0, got ${acquireTimeoutMs}`);
}

/**
 * One named pool of connections to one endpoint.
 * @example
 * const pool = new Pool("primary", connector, { max: 4, acquireTimeoutMs: 2000 });
 * const rows = await pool.use((sql) => sql`select 1`);
 */
export class Pool<C> {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly #connector: Connector<C>;
  readonly #clock: Clock;
  readonly #budget: ConnectionBudget;
  readonly #acquireTimeoutMs: number;
  readonly #scaleIntervalMs: number;
  readonly #scaleUpWaitMs: number;
  readonly #isBroken: (err: unknown) => boolean;
  #limit: number;
  #closed = false;
  readonly #idle: C[] = [];
  readonly #inUse = new Set<C>();
  #opening = 0;
  readonly #waiters: Waiter<C>[] = [];
  readonly #closing = new Set<Promise<void>>();
  #window: { start: number; waitMs: number; peakInUse: number };
  #counters = { acquired: 0, timeouts: 0, errors: 0, opened: 0, closed: 0, waitMs: 0 };

  constructor(
    name: string,
    connector: Connector<C>,
    options: PoolOptions = {},
    deps: { clock?: Clock; budget?: ConnectionBudget } = {},
  ) {
    this.name = name;
    this.min = options.min ?? 1;
    this.max = options.max ?? PLATFORM_CONNECTION_LIMIT;
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 5_000;
    checkOptions(name, this.min, this.max, this.#acquireTimeoutMs);
    this.#connector = connector;
    this.#clock = deps.clock ?? systemClock;
    this.#budget = deps.budget ?? new ConnectionBudget();
    this.#scaleIntervalMs = options.scaleIntervalMs ?? 100;
    this.#scaleUpWaitMs = options.scaleUpWaitMs ?? 1;
    this.#isBroken = options.isBroken ?? (() => false);
    if (!this.#budget.take(this.min)) {
      throw new RangeError(
        `pool ${name}: min ${this.min} exceeds the ${this.#budget.total - this.#budget.reserved} connections left in the budget`,
      );
    }
    this.#limit = this.min;
    this.#window = { start: this.#clock.now(), waitMs: 0, peakInUse: 0 };
  }

  /** The maximum in force now. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Lends an idle connection, opens a new one below the limit, or queues the caller (first come,
   * first served) until one frees; rejects with {@link PoolExhaustedError} after the timeout.
   */
  acquire(): Promise<Lease<C>> {
    if (this.#closed) return Promise.reject(new PoolClosedError(this.name));
    const idle = this.#takeIdle();
    if (idle !== undefined) return Promise.resolve(this.#lease(idle));
    if (this.#waiters.length === 0 && this.#open < this.#limit) return this.#openAndLend();
    return new Promise((resolve, reject) => {
      const waiter: Waiter<C> = { since: this.#clock.now(), timer: undefined, resolve, reject };
      waiter.timer = this.#clock.setTimer(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i < 0) return;
        this.#waiters.splice(i, 1);
        const waited = this.#recordWait(waiter);
        this.#counters.timeouts++;
        reject(new PoolExhaustedError(this.name, waited));
      }, this.#acquireTimeoutMs);
      this.#waiters.push(waiter);
      this.#rescale();
      this.#dispatch();
    });
  }

  /** Runs `fn` with a connection and releases it, as broken when `isBroken(err)` says so. */
  use<T>(fn: (connection: C) => Promise<T>): Promise<T> {
    // The common case, an idle connection and nobody queued, lends it without a lease object
    // or a wait for `acquire`'s promise: this is every routed query's path.
    const idle = this.#closed ? undefined : this.#takeIdle();
    if (idle !== undefined) return this.#run(idle, fn);
    return this.acquire().then((lease) => this.#run(lease.connection, fn));
  }

  stats(): PoolStats {
    return {
      name: this.name,
      min: this.min,
      max: this.max,
      limit: this.#limit,
      open: this.#open,
      inUse: this.#inUse.size,
      idle: this.#idle.length,
      waiting: this.#waiters.length,
      ...this.#counters,
    };
  }

  /**
   * Rejects the waiters, closes the idle connections (lent ones close when released) and
   * returns the pool's share of the budget.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) {
        this.#clock.clearTimer(w.timer);
        w.reject(new PoolClosedError(this.name));
      }
      for (const c of this.#idle.splice(0)) this.#destroy(c);
      this.#budget.give(this.#limit);
    }
    await Promise.all(this.#closing);
  }

  get #open(): number {
    return this.#idle.length + this.#inUse.size + this.#opening;
  }

  /** Rescales, then pops an idle connection and lends it, unless callers are queued first. */
  #takeIdle(): C | undefined {
    this.#rescale();
    if (this.#waiters.length > 0) return undefined;
    const idle = this.#idle.pop();
    if (idle !== undefined) this.#lend(idle);
    return idle;
  }

  #lend(connection: C): void {
    this.#inUse.add(connection);
    this.#counters.acquired++;
    if (this.#inUse.size > this.#window.peakInUse) this.#window.peakInUse = this.#inUse.size;
  }

  #lendLease(connection: C): Lease<C> {
    this.#lend(connection);
    return this.#lease(connection);
  }

  /** A lent connection wrapped so that it is released exactly once. */
  #lease(connection: C): Lease<C> {
    let released = false;
    return {
      connection,
      release: (broken = false) => {
        if (released) return;
        released = true;
        this.#release(connection, broken);
      },
    };
  }

  /**
   * Runs `fn` on a lent connection and releases it, as broken when `isBroken(err)` says so.
   * Chains on the result's own `then` rather than awaiting it: a driver's query is a thenable
   * (postgres.js's is lazy), and `await` would wrap it in one more promise and job per query.
   */
  #run<T>(connection: C, fn: (connection: C) => Promise<T>): Promise<T> {
    let result: Promise<T>;
    try {
      result = fn(connection);
    } catch (err) {
      this.#release(connection, this.#isBroken(err));
      return Promise.reject(err);
    }
    return result.then(
      (value) => {
        this.#release(connection, false);
        return value;
      },
      (err: unknown) => {
        this.#release(connection, this.#isBroken(err));
        throw err;
      },
    );
  }

  async #openAndLend(): Promise<Lease<C>> {
    this.#opening++;
    let connection: C;
    try {
      connection = await this.#connector.open();
    } catch (err) {
      this.#opening--;
      this.#counters.errors++;
      this.#dispatch();
      throw err;
    }
    this.#opening--;
    this.#counters.opened++;
    if (this.#closed) {
      this.#destroy(connection);
      throw new PoolClosedError(this.name);
    }
    return this.#lendLease(connection);
  }

  #release(connection: C, broken: boolean): void {
    this.#inUse.delete(connection);
    if (broken) this.#counters.errors++;
    if (broken || this.#closed || this.#open >= this.#limit) {
      this.#destroy(connection);
    } else {
      const waiter = this.#waiters.shift();
      if (waiter) this.#handOver(waiter, () => Promise.resolve(this.#lendLease(connection)));
      else this.#idle.push(connection);
    }
    this.#rescale();
    this.#dispatch();
  }

  /** Serves queued callers from idle connections or free slots under the limit. */
  #dispatch(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      const idle = this.#idle.pop();
      if (idle !== undefined) {
        this.#handOver(this.#waiters.shift() as Waiter<C>, () => Promise.resolve(this.#lendLease(idle)));
      } else if (this.#open < this.#limit) {
        this.#handOver(this.#waiters.shift() as Waiter<C>, () => this.#openAndLend());
      } else {
        return;
      }
    }
  }

  #handOver(waiter: Waiter<C>, lease: () => Promise<Lease<C>>): void {
    this.#clock.clearTimer(waiter.timer);
    this.#recordWait(waiter);
    lease().then(waiter.resolve, waiter.reject);
  }

  #recordWait(waiter: Waiter<C>): number {
    const waited = this.#clock.now() - waiter.since;
    this.#counters.waitMs += waited;
    this.#window.waitMs += waited;
    return waited;
  }

  /**
   * Once per window: grows the limit by the number of queued callers (within max and the budget)
   * when callers waited at least `scaleUpWaitMs` in all, shrinks it by one when nobody waited and
   * fewer connections than the limit were in use.
   */
  #rescale(): void {
    const now = this.#clock.now();
    if (this.#closed || now - this.#window.start < this.#scaleIntervalMs) return;
    let waited = this.#window.waitMs;
    for (const w of this.#waiters) waited += now - w.since;
    if (waited > 0 && waited >= this.#scaleUpWaitMs) {
      let step = Math.max(1, this.#waiters.length);
      while (step-- > 0 && this.#limit < this.max && this.#budget.take(1)) this.#limit++;
    } else if (waited === 0 && this.#window.peakInUse < this.#limit && this.#limit > this.min) {
      this.#limit--;
      this.#budget.give(1);
      while (this.#open > this.#limit && this.#idle.length > 0) this.#destroy(this.#idle.shift() as C);
    }
    this.#window = { start: now, waitMs: 0, peakInUse: this.#inUse.size };
    this.#dispatch();
  }

  #destroy(connection: C): void {
    this.#counters.closed++;
    const closing = this.#connector.close(connection).catch(() => undefined);
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }
}

/** Several pools, one per endpoint, sharing one connection budget. */
export class PoolManager<C> {
  readonly budget: ConnectionBudget;
  readonly #clock: Clock;
  readonly #pools = new Map<string, Pool<C>>();

  constructor(options: { budget?: number; clock?: Clock } = {}) {
    this.budget = new ConnectionBudget(options.budget ?? PLATFORM_CONNECTION_LIMIT);
    this.#clock = options.clock ?? systemClock;
  }

  /** Creates the pool `name`; throws when it exists or its `min` does not fit the budget. */
  add(name: string, connector: Connector<C>, options: PoolOptions = {}): Pool<C> {
    if (this.#pools.has(name)) throw new RangeError(`pool ${name} exists already`);
    const pool = new Pool(name, connector, options, { clock: this.#clock, budget: this.budget });
    this.#pools.set(name, pool);
    return pool;
  }

  /** The pool `name`; throws when there is none. */
  get(name: string): Pool<C> {
    const pool = this.#pools.get(name);
    if (!pool) throw new RangeError(`no pool named ${name}`);
    return pool;
  }

  /** Every pool's statistics, by name, and the budget in use. */
  stats(): { pools: Record<string, PoolStats>; budget: { total: number; reserved: number } } {
    const pools: Record<string, PoolStats> = {};
    for (const [name, pool] of this.#pools) pools[name] = pool.stats();
    return { pools, budget: { total: this.budget.total, reserved: this.budget.reserved } };
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }
}
