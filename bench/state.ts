/**
 * State: puts/s, gets/s, multi-key reads/s and compare-and-set/s on one namespace, the latency from a put to its arrival at
 * 100 WebSocket subscribers, and Redis SET/GET through ioredis as the reference. Everything goes
 * through the typed client, as an app would.
 */
import { HttpTransport } from "../shared/client/http.ts";
import { httpState, StateClient, webSocketConnector } from "../shared/client/state.ts";
import { quantile, runLoad } from "./lib/load.ts";
import { connectRedis } from "./lib/redis.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const CONCURRENCY = 16;
const SUBSCRIBERS = 100;
const READ_KEYS = 10;

function stateClient(ctx: BenchContext, namespace: string): StateClient {
  const options = { baseUrl: ctx.baseUrl, token: ctx.token };
  return new StateClient(httpState(new HttpTransport(options), webSocketConnector(options)), namespace);
}

/** Throughput of plain puts and of compare-and-set on 64 keys (losers refresh their version). */
async function writes(ctx: BenchContext, durationMs: number): Promise<BenchRow[]> {
  const state = stateClient(ctx, `bench-writes-${Date.now()}`);
  const puts = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      await state.put(`k${i % 100}`, { i });
    },
  });
  const gets = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      await state.get(`k${i % 100}`);
    },
  });
  // Ten keys a request, at one version: what a page or a cache warming reads instead of ten GETs.
  const reads = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      await state.read(Array.from({ length: READ_KEYS }, (_, k) => `k${(i + k) % 100}`));
    },
  });
  const versions = new Map<string, number>();
  let won = 0;
  const cas = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      const key = `c${i % 64}`;
      const outcome = await state.cas(key, versions.get(key) ?? 0, i);
      if (outcome.ok) won += 1;
      versions.set(key, outcome.ok ? outcome.version : outcome.currentVersion);
    },
  });
  return [
    { suite: "state", name: "PUT, one namespace", ...puts, note: `${CONCURRENCY} concurrent writers` },
    { suite: "state", name: "GET, one namespace", ...gets, note: `${CONCURRENCY} concurrent readers` },
    {
      suite: "state",
      name: `multi-key read, ${READ_KEYS} keys a request`,
      ...reads,
      note: `${((reads.opsPerSec * READ_KEYS) / gets.opsPerSec).toFixed(2)}× the keys/s of single GETs`,
    },
    {
      suite: "state",
      name: "compare-and-set, one namespace, 64 keys",
      ...cas,
      note: `${Math.round((100 * won) / Math.max(1, cas.ops))} % won, the rest 412`,
    },
  ];
}

/** Put → arrival at every one of 100 subscribers, one put at a time. */
async function fanOut(ctx: BenchContext, puts: number): Promise<BenchRow> {
  const state = stateClient(ctx, `bench-fanout-${Date.now()}`);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let arrived = 0;
  let notify = () => {};
  const watchers = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, () =>
      state.watch("", (m) => {
        const t0 = sentAt.get(m.version);
        if (t0 !== undefined) latencies.push(performance.now() - t0);
        arrived += 1;
        notify();
      }),
    ),
  );
  const t0 = performance.now();
  for (let i = 0; i < puts; i++) {
    const target = arrived + SUBSCRIBERS;
    const done = new Promise<void>((resolve) => {
      notify = () => {
        if (arrived >= target) resolve();
      };
    });
    const start = performance.now();
    // The version is known only from the response; a put's number is the next one in order.
    sentAt.set(i + 1, start);
    await state.put("fan", i);
    await done;
  }
  const elapsed = (performance.now() - t0) / 1000;
  for (const w of watchers) w.close();
  latencies.sort((a, b) => a - b);
  return {
    suite: "state",
    name: `put → ${SUBSCRIBERS} WebSocket subscribers`,
    ops: latencies.length,
    opsPerSec: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    note: `${puts} puts, one at a time; deliveries/s`,
  };
}

/** The reference: SET and GET on the local Redis through ioredis. */
async function redisRows(durationMs: number): Promise<BenchRow[]> {
  const redis = await connectRedis();
  if (!redis) {
    return [
      {
        suite: "state",
        name: "Redis SET/GET (skipped)",
        ops: 0,
        opsPerSec: 0,
        note: "no Redis on 127.0.0.1:6379",
      },
    ];
  }
  const prefix = `bench-state-${Date.now()}`;
  const set = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      await redis.set(`${prefix}:${i % 100}`, JSON.stringify({ i }));
    },
  });
  const get = await runLoad({
    concurrency: CONCURRENCY,
    durationMs,
    op: async (i) => {
      await redis.get(`${prefix}:${i % 100}`);
    },
  });
  redis.disconnect();
  return [
    { suite: "state", name: "Redis SET (ioredis)", ...set, note: "reference, local Redis" },
    { suite: "state", name: "Redis GET (ioredis)", ...get, note: "reference, local Redis" },
  ];
}

const stateSuite: BenchSuite = async (ctx) => {
  const durationMs = ctx.quick ? 1_500 : 6_000;
  return [
    ...(await writes(ctx, durationMs)),
    await fanOut(ctx, ctx.quick ? 20 : 200),
    ...(await redisRows(durationMs)),
  ];
};

export default stateSuite;
