/**
 * Pools under concurrent use against a real Postgres node (pg-2, the node that is up whichever
 * order the files of this project run in).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Pool, PoolExhaustedError, type PoolOptions } from "../../shared/db/pool.ts";
import { isConnectionError, type PgConnection, pgConnector } from "../../shared/db/postgres.ts";
import { openPgSocket } from "../../shared/db/socket.ts";

const connector = () =>
  pgConnector((env as unknown as { DB_PG2: Hyperdrive }).DB_PG2.connectionString, { socket: openPgSocket });

const sleepy = (seconds: number) => async (sql: PgConnection) => {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(${seconds})`;
  return row?.pid as number;
};

/** Runs `test` with a pool on pg-2, closed afterwards whatever happens. */
async function withPool(options: PoolOptions, test: (pool: Pool<PgConnection>) => Promise<void>) {
  const pool = new Pool("pg-2", connector(), options);
  try {
    await test(pool);
  } finally {
    await pool.close();
  }
}

describe("Pool over real connections", () => {
  it("serves 12 concurrent callers over at most 3 connections, reusing them", async () => {
    await withPool({ min: 3, max: 3, isBroken: isConnectionError }, async (pool) => {
      const pids = await Promise.all(Array.from({ length: 12 }, () => pool.use(sleepy(0.02))));
      expect(new Set(pids).size).toBe(3);
      expect(pool.stats()).toMatchObject({
        acquired: 12,
        opened: 3,
        open: 3,
        idle: 3,
        inUse: 0,
        timeouts: 0,
        errors: 0,
      });
      expect(pool.stats().waitMs).toBeGreaterThan(0);
    });
  });

  it("times out callers of a full pool with PoolExhaustedError and counts them", async () => {
    await withPool({ min: 1, max: 1, acquireTimeoutMs: 50, scaleIntervalMs: 60_000 }, async (pool) => {
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => pool.use(sleepy(0.5))));
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const failures = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
      expect(failures).toHaveLength(2);
      for (const err of failures) expect(err).toBeInstanceOf(PoolExhaustedError);
      expect(pool.stats()).toMatchObject({ acquired: 1, timeouts: 2, waiting: 0 });
    });
  });

  it("grows its limit while callers wait, up to its maximum", async () => {
    await withPool({ min: 1, max: 4, scaleIntervalMs: 5, acquireTimeoutMs: 10_000 }, async (pool) => {
      const pids = await Promise.all(Array.from({ length: 24 }, () => pool.use(sleepy(0.02))));
      const stats = pool.stats();
      expect(stats.limit).toBeGreaterThan(1);
      expect(stats.limit).toBeLessThanOrEqual(4);
      expect(new Set(pids).size).toBe(stats.opened);
      expect(stats.opened).toBeGreaterThan(1);
    });
  });

  it("counts a connection that fails as an error and replaces it", async () => {
    await withPool({ min: 1, max: 1, isBroken: isConnectionError }, async (pool) => {
      // Ending its own session breaks the connection from the server side (SQLSTATE 57P01).
      await expect(
        pool.use((sql) => sql`select pg_terminate_backend(pg_backend_pid())`),
      ).rejects.toBeDefined();
      expect(pool.stats()).toMatchObject({ errors: 1, open: 0 });
      await expect(pool.use(async (sql) => (await sql`select 1 as one`)[0]?.one)).resolves.toBe(1);
      expect(pool.stats()).toMatchObject({ opened: 2, errors: 1 });
    });
  });
});
