/**
 * Locks: acquire+release pairs on 100 distinct locks and on one hot lock, against the no-op
 * route of the same server, the same pairs with a scoped token (its signature checked on every
 * request) against the admin token in the same run, and the same pairs with redlock on the local Redis.
 */
import Redlock from "redlock";
import { client, percentOf } from "./lib/api.ts";
import { type LoadOptions, type LoadResult, runLoad, summarize } from "./lib/load.ts";
import { connectRedis } from "./lib/redis.ts";
import { scopedCheckMicros } from "./lib/token-check.ts";
import type { BenchRow, BenchSuite } from "./lib/types.ts";

const CONCURRENCY = 16;

const locksSuite: BenchSuite = async (ctx) => {
  const send = client(ctx);
  const durationMs = ctx.quick ? 1_500 : 8_000;
  const run = `bench-${Date.now()}`;
  const rows: BenchRow[] = [];
  /** Every row runs the same load: CONCURRENCY callers for durationMs. */
  const load = (op: LoadOptions["op"]) => runLoad({ concurrency: CONCURRENCY, durationMs, op });

  const health = await load(async () => {
    await fetch(`${ctx.baseUrl}/health`).then((r) => r.arrayBuffer());
  });
  rows.push({ suite: "locks", name: "GET /health (no-op ceiling)", ...health, note: "requests/s" });

  const pair =
    (lockName: (i: number) => string, call = send) =>
    async (i: number) => {
      const name = lockName(i);
      const owner = `o${i}`;
      const grant = await call("POST", `/v1/locks/${name}/acquire`, { owner, waitMs: 10_000, ttlMs: 10_000 });
      if (grant.status !== 200) throw new Error(`acquire ${grant.status}`);
      await call("POST", `/v1/locks/${name}/release`, { owner, token: grant.body.token });
    };

  /** The 100 distinct lock names that every row but the hot-lock ones takes in turn. */
  const oneOf100 = (i: number) => `${run}-${i % 100}`;
  const distinct = await load(pair(oneOf100));
  rows.push({
    suite: "locks",
    name: "acquire+release, 100 locks",
    ...distinct,
    note: `pairs/s; ${percentOf(distinct.opsPerSec * 2, health.opsPerSec)} (requests)`,
  });

  // A scoped token against the admin token on the locks the row above made (so that neither pays
  // for creating objects): the cost of verifying an HMAC-signed token (and its scopes) on every
  // request. The two alternate within one load, so that both see the same machine: run one after
  // the other, their ratio swung from 0.87 to 1.03 between two runs on this machine.
  const minted = await send("POST", "/v1/tokens", {
    scopes: [{ resource: `locks:${run}-*`, actions: ["write"] }],
    label: "bench",
  });
  if (minted.status !== 201) throw new Error(`mint ${minted.status}`);
  const scopedSend = client({ ...ctx, token: minted.body.token });
  const pairs = {
    admin: pair(oneOf100),
    scoped: pair(oneOf100, scopedSend),
  };
  const pairTimes = { admin: [] as number[], scoped: [] as number[] };
  const mixedStart = performance.now();
  await load(async (i) => {
    const token = i % 2 === 0 ? "admin" : "scoped";
    const started = performance.now();
    await pairs[token](i);
    pairTimes[token].push(performance.now() - started);
  });
  const mixedSeconds = (performance.now() - mixedStart) / 1000;
  const half = (times: readonly number[]): LoadResult => {
    const { calls, p50Ms, p99Ms } = summarize(times);
    return { ops: calls, opsPerSec: calls / mixedSeconds, p50Ms, p99Ms };
  };
  const meanMs = (times: readonly number[]) => times.reduce((sum, t) => sum + t, 0) / times.length;
  rows.push({
    suite: "locks",
    name: "acquire+release, admin token",
    ...half(pairTimes.admin),
    note: "pairs/s, half of one load that alternates the tokens",
  });
  rows.push({
    suite: "locks",
    name: "acquire+release, scoped token",
    ...half(pairTimes.scoped),
    note: `pairs/s, the other half; a pair takes ${(meanMs(pairTimes.scoped) / meanMs(pairTimes.admin)).toFixed(2)}× the admin pair's mean time`,
  });

  // What the HTTP rows cannot separate from their noise: the scoped check alone, set against the
  // time one request costs this machine at the no-op ceiling (issue 13's "share of the request rate").
  const checks = ctx.quick ? 5_000 : 50_000;
  const rounds = ctx.quick ? 2 : 5;
  const checkMicros = await scopedCheckMicros(checks, rounds);
  const requestMicros = 1e6 / health.opsPerSec;
  rows.push({
    suite: "locks",
    name: "scoped token check alone, in process",
    ops: checks * rounds,
    opsPerSec: Math.round(1e6 / checkMicros),
    note: `checks/s; ${checkMicros.toFixed(1)} µs a check, ${((100 * checkMicros) / requestMicros).toFixed(2)} % of the ${Math.round(requestMicros)} µs a /health request costs here`,
  });

  const hot = await load(pair(() => `${run}-hot`));
  rows.push({
    suite: "locks",
    name: "acquire+release, 1 hot lock",
    ...hot,
    note: `pairs/s; ${percentOf(hot.opsPerSec * 2, health.opsPerSec)} (requests)`,
  });

  const redis = await connectRedis();
  if (!redis) {
    rows.push({
      suite: "locks",
      name: "redlock (skipped)",
      ops: 0,
      opsPerSec: 0,
      note: "no Redis on 127.0.0.1:6379",
    });
    return rows;
  }
  // A hot lock under redlock is a spin: retry until acquired, as its users do.
  const redlock = new Redlock([redis], { retryCount: 1000, retryDelay: 2, retryJitter: 2 });
  const redlockPair = (resource: (i: number) => string) => async (i: number) => {
    const lock = await redlock.lock(resource(i), 10_000);
    await lock.unlock();
  };
  const rlDistinct = await load(redlockPair(oneOf100));
  rows.push({
    suite: "locks",
    name: "redlock lock+unlock, 100 locks",
    ...rlDistinct,
    note: "peer, local Redis",
  });
  const rlHot = await load(redlockPair(() => `${run}-hot`));
  rows.push({ suite: "locks", name: "redlock lock+unlock, 1 hot lock", ...rlHot, note: "peer, local Redis" });
  redis.disconnect();
  return rows;
};

export default locksSuite;
