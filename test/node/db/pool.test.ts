import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Connector,
  type Lease,
  Pool,
  PoolClosedError,
  PoolExhaustedError,
  PoolManager,
} from "../../../shared/db/pool.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";

/** Hands out numbered fake connections; `failNext` makes the next open fail. */
class FakeConnector implements Connector<{ id: number }> {
  opened = 0;
  readonly closed: number[] = [];
  failNext = false;

  async open() {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("connection refused");
    }
    return { id: ++this.opened };
  }

  async close(c: { id: number }) {
    this.closed.push(c.id);
  }
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

function setup(options: ConstructorParameters<typeof Pool>[2] = {}) {
  const clock = new ManualClock(1_000_000);
  const connector = new FakeConnector();
  const pool = new Pool("p", connector, options, { clock });
  return { clock, connector, pool };
}

describe("Pool", () => {
  it("reuses an idle connection instead of opening another", async () => {
    const { pool, connector } = setup({ max: 3 });
    const a = await pool.acquire();
    a.release();
    const b = await pool.acquire();
    expect(b.connection).toBe(a.connection);
    b.release();
    expect(connector.opened).toBe(1);
    expect(pool.stats()).toMatchObject({ acquired: 2, idle: 1, inUse: 0, open: 1 });
  });

  it("never opens more than the limit; waiters are served first come, first served", async () => {
    const { pool, connector } = setup({ min: 2, max: 2, scaleIntervalMs: 1e9 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const order: string[] = [];
    const served = (name: string) => (l: Lease<{ id: number }>) => {
      order.push(name);
      return l;
    };
    const c = pool.acquire().then(served("c"));
    const d = pool.acquire().then(served("d"));
    await settle();
    expect(pool.stats()).toMatchObject({ waiting: 2, inUse: 2, open: 2 });
    a.release();
    await settle();
    b.release();
    const [lc, ld] = await Promise.all([c, d]);
    expect(order).toEqual(["c", "d"]);
    expect(lc.connection).toBe(a.connection);
    expect(ld.connection).toBe(b.connection);
    expect(connector.opened).toBe(2);
  });

  it("rejects with PoolExhaustedError when the pool stays full past the timeout", async () => {
    const { pool, clock } = setup({ min: 1, max: 1, acquireTimeoutMs: 500, scaleIntervalMs: 1e9 });
    const held = await pool.acquire();
    const waiting = pool.acquire();
    clock.advance(499);
    await settle();
    expect(pool.stats().waiting).toBe(1);
    clock.advance(1);
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect(err).toMatchObject({ pool: "p", waitedMs: 500 });
    expect(pool.stats()).toMatchObject({ waiting: 0, timeouts: 1, waitMs: 500 });
    held.release();
    expect(pool.stats().idle).toBe(1);
  });

  it("closes a connection released as broken and opens a fresh one for the next caller", async () => {
    const { pool, connector } = setup({ min: 1, max: 1, scaleIntervalMs: 1e9 });
    const a = await pool.acquire();
    const next = pool.acquire();
    a.release(true);
    const b = await next;
    expect(b.connection).not.toBe(a.connection);
    expect(connector.closed).toEqual([a.connection.id]);
    expect(pool.stats()).toMatchObject({ errors: 1, opened: 2, closed: 1 });
  });

  it("use() releases on success and drops the connection when isBroken says so", async () => {
    const { pool, connector } = setup({ isBroken: (e) => e instanceof Error && e.message === "gone" });
    await expect(pool.use(async (c) => c.id)).resolves.toBe(1);
    await expect(pool.use(async () => Promise.reject(new Error("syntax")))).rejects.toThrow("syntax");
    expect(pool.stats()).toMatchObject({ idle: 1, errors: 0 });
    await expect(pool.use(async () => Promise.reject(new Error("gone")))).rejects.toThrow("gone");
    expect(pool.stats()).toMatchObject({ idle: 0, errors: 1 });
    expect(connector.closed).toEqual([1]);
  });

  it("use() releases when the callback throws before returning a promise, and rejects", async () => {
    const { pool } = setup({ isBroken: (e) => e instanceof Error && e.message === "gone" });
    const throwing = (): Promise<number> => {
      throw new Error("gone");
    };
    await expect(pool.use(throwing)).rejects.toThrow("gone");
    expect(pool.stats()).toMatchObject({ inUse: 0, errors: 1 });
  });

  it("use() runs a lazy query (a promise that starts on then(), as postgres.js's does) once", async () => {
    const { pool } = setup();
    let runs = 0;
    class LazyQuery extends Promise<number> {
      static override get [Symbol.species]() {
        return Promise;
      }
      // biome-ignore lint/suspicious/noThenProperty: the point is a promise whose then() starts work
      override then<A = number, B = never>(
        onFulfilled?: ((value: number) => A | PromiseLike<A>) | null,
        onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
      ): Promise<A | B> {
        runs++;
        return Promise.resolve(42).then(onFulfilled, onRejected);
      }
    }
    await expect(pool.use(() => new LazyQuery(() => {}))).resolves.toBe(42);
    expect(runs).toBe(1);
    expect(pool.stats()).toMatchObject({ inUse: 0, idle: 1 });
  });

  it("counts a failed open as an error and passes the failure to the caller", async () => {
    const { pool, connector } = setup();
    connector.failNext = true;
    await expect(pool.acquire()).rejects.toThrow("connection refused");
    expect(pool.stats()).toMatchObject({ errors: 1, open: 0 });
    await expect(pool.acquire()).resolves.toBeDefined();
  });

  it("grows its limit while callers wait and shrinks it when they stop, within [min, max]", async () => {
    const { pool, clock } = setup({ min: 1, max: 3, scaleIntervalMs: 100, acquireTimeoutMs: 10_000 });
    const first = await pool.acquire();
    const waiters = [pool.acquire(), pool.acquire(), pool.acquire()];
    clock.advance(100);
    // The next event after the window closes resizes the pool: three waited, so +2 up to max.
    first.release();
    const leases = await Promise.all(waiters);
    expect(pool.limit).toBe(3);
    expect(pool.stats().inUse).toBe(3);
    for (const l of leases) l.release();
    for (let i = 0; i < 4; i++) {
      clock.advance(100);
      (await pool.acquire()).release();
    }
    expect(pool.limit).toBe(1);
    expect(pool.stats().open).toBe(1);
  });

  it("close() rejects waiters, closes idle connections at once and lent ones on release", async () => {
    const { pool, connector } = setup({ min: 2, max: 2, scaleIntervalMs: 1e9 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    const c = await pool.acquire();
    const waiting = pool.acquire();
    await settle();
    c.release();
    const d = await waiting;
    expect(d.connection).toBe(b.connection);
    const queued = pool.acquire();
    const closed = pool.close();
    await expect(queued).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    expect(connector.closed).toEqual([]);
    a.release();
    d.release();
    await closed;
    expect(connector.closed).toEqual([a.connection.id, b.connection.id]);
    expect(pool.stats()).toMatchObject({ open: 0, inUse: 0, idle: 0, closed: 2 });
  });

  it("close() closes idle connections without waiting for releases", async () => {
    const { pool, connector } = setup({ min: 2, max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    void pool.close();
    await settle();
    expect(connector.closed).toEqual([b.connection.id]);
    a.release();
  });

  it("refuses a maximum above the platform's 6 connections and a bad minimum", () => {
    expect(() => new Pool("p", new FakeConnector(), { max: 7 })).toThrow(RangeError);
    expect(() => new Pool("p", new FakeConnector(), { min: 0 })).toThrow(RangeError);
    expect(() => new Pool("p", new FakeConnector(), { min: 3, max: 2 })).toThrow(RangeError);
  });
});

describe("PoolManager", () => {
  it("shares one budget of 6 connections between its pools and reports every pool", async () => {
    const clock = new ManualClock(1_000_000);
    const manager = new PoolManager<{ id: number }>({ clock });
    const primary = manager.add("primary", new FakeConnector(), { min: 4, max: 6, scaleIntervalMs: 10 });
    const replica = manager.add("replica", new FakeConnector(), { min: 2, max: 6, scaleIntervalMs: 10 });
    expect(() => manager.add("third", new FakeConnector())).toThrow(/budget/);
    expect(() => manager.add("primary", new FakeConnector())).toThrow(/exists/);
    const held = await Promise.all([1, 2, 3, 4].map(() => primary.acquire()));
    const waiting = primary.acquire();
    clock.advance(10);
    held[0]?.release();
    await waiting;
    // No slot left in the budget: the primary cannot grow past 4 while the replica holds 2.
    expect(primary.limit).toBe(4);
    expect(manager.stats()).toMatchObject({
      budget: { total: 6, reserved: 6 },
      pools: { primary: { limit: 4, inUse: 4 }, replica: { limit: 2, inUse: 0 } },
    });
    expect(() => manager.get("nope")).toThrow(RangeError);
    expect(manager.get("replica")).toBe(replica);
    await manager.close();
    expect(manager.stats().budget.reserved).toBe(0);
  });
});

describe("Pool invariants under random use", () => {
  type Op =
    | { kind: "acquire" }
    | { kind: "release"; index: number; broken: boolean }
    | { kind: "tick"; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: "acquire" as const }),
    fc.record({ kind: fc.constant("release" as const), index: fc.nat(20), broken: fc.boolean() }),
    fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 300 }) }),
  );

  it("keeps open <= limit within [min, max], counts every acquire, and settles every caller", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(op, { maxLength: 60 }),
        async (min, extra, ops) => {
          const clock = new ManualClock(1_000_000);
          const manager = new PoolManager<{ id: number }>({ clock });
          const max = Math.min(6, min + extra);
          const pool = manager.add("p", new FakeConnector(), {
            min,
            max,
            acquireTimeoutMs: 200,
            scaleIntervalMs: 50,
          });
          const leases: Lease<{ id: number }>[] = [];
          let settled = 0;
          let started = 0;
          for (const o of ops) {
            if (o.kind === "acquire") {
              started++;
              pool.acquire().then(
                (l) => {
                  settled++;
                  leases.push(l);
                },
                () => {
                  settled++;
                },
              );
            } else if (o.kind === "release") {
              leases.splice(o.index % Math.max(1, leases.length), 1)[0]?.release(o.broken);
            } else {
              clock.advance(o.ms);
            }
            await settle();
            const s = pool.stats();
            expect(s.open).toBeLessThanOrEqual(s.limit);
            expect(s.limit).toBeGreaterThanOrEqual(min);
            expect(s.limit).toBeLessThanOrEqual(max);
            expect(s.inUse).toBe(leases.length);
            expect(manager.budget.reserved).toBe(s.limit);
          }
          clock.advance(200);
          await settle();
          expect(settled).toBe(started);
          expect(pool.stats().acquired + pool.stats().timeouts).toBe(started);
        },
      ),
      { numRuns: 150 },
    );
  });
});
