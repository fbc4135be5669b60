/**
 * Redis bridge benchmarks (skipped with a note when no Redis answers on 127.0.0.1:6379):
 * - events/s from publish (batches of 100) until every event is in the Redis stream, against XADD
 *   of the same entries straight through ioredis (the ceiling: one pipelined round trip per 100)
 *   and through the gateway with @upstash/redis (the HTTP transport's cost, same batching);
 * - mirror lag under a steady 500 state writes/s: from each write's answer to its key in Redis.
 */
import { Redis as Upstash } from "@upstash/redis";
import { streamFields } from "../shared/redis/entries.ts";
import { client } from "./lib/api.ts";
import { quantile } from "./lib/load.ts";
import { connectRedis } from "./lib/redis.ts";
import type { BenchContext, BenchRow } from "./lib/types.ts";

const SUITE = "redis";
const BATCH = 100;

const name = (label: string) => `bench-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

/** The stream fields of event `i`, as the sink writes them. */
function fieldsOf(i: number): string[] {
  return streamFields({
    id: `evt_bench_${i}`,
    topic: "bench",
    type: "bench.event",
    data: { i },
    seq: i + 1,
    priority: "normal",
    critical: false,
    publishedAt: Date.now(),
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}

export default async function redisBench(ctx: BenchContext): Promise<BenchRow[]> {
  const redis = await connectRedis();
  if (!redis || !ctx.redisGateway) {
    redis?.disconnect();
    return [
      {
        suite: SUITE,
        name: "Redis bridge",
        ops: 0,
        opsPerSec: 0,
        note: "skipped: no Redis on 127.0.0.1:6379",
      },
    ];
  }
  const call = client(ctx);
  const events = ctx.quick ? 1_000 : 10_000;
  const rows: BenchRow[] = [];
  try {
    // Publish → stream.
    const topic = name("sink");
    const stream = name("sink-stream");
    await call("PUT", `/v1/topics/${topic}/config`, { maxUndelivered: 1_000_000 });
    await call("POST", `/v1/topics/${topic}/subscriptions`, { redis: { stream } });
    const batch = Array.from({ length: BATCH }, (_, i) => ({ type: "bench.event", data: { i } }));
    const t0 = performance.now();
    for (let sent = 0; sent < events; sent += BATCH * 4) {
      await Promise.all(
        Array.from({ length: Math.min(4, (events - sent) / BATCH) }, () =>
          call("POST", `/v1/topics/${topic}/events`, { events: batch }),
        ),
      );
    }
    await waitFor(async () => (await redis.xlen(stream)) >= events, 600_000);
    const sinkRate = events / ((performance.now() - t0) / 1000);

    // XADD straight through ioredis: one pipelined round trip per batch.
    const direct = name("direct-stream");
    const t1 = performance.now();
    for (let b = 0; b < events; b += BATCH) {
      const p = redis.pipeline();
      for (let i = b; i < b + BATCH; i++) p.xadd(direct, "*", ...fieldsOf(i));
      await p.exec();
    }
    const directRate = events / ((performance.now() - t1) / 1000);

    // XADD through the gateway with @upstash/redis: one /pipeline request per batch.
    const upstash = new Upstash({
      url: ctx.redisGateway.url,
      token: ctx.redisGateway.token,
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    const viaGateway = name("gateway-stream");
    const t2 = performance.now();
    for (let b = 0; b < events; b += BATCH) {
      const p = upstash.pipeline();
      for (let i = b; i < b + BATCH; i++) {
        const f = fieldsOf(i);
        const entry: Record<string, string> = {};
        for (let k = 0; k < f.length; k += 2) entry[f[k] as string] = f[k + 1] as string;
        p.xadd(viaGateway, "*", entry);
      }
      await p.exec();
    }
    const gatewayRate = events / ((performance.now() - t2) / 1000);
    const records = await redis.keys(`switchyard:sink:${topic}:*`);
    await redis.del(stream, direct, viaGateway, ...records);

    const pct = (r: number) => `${Math.round((100 * r) / directRate)} % of ioredis XADD`;
    rows.push(
      {
        suite: SUITE,
        name: "publish → Redis stream (batches of 100, exactly once)",
        ops: events,
        opsPerSec: sinkRate,
        note: pct(sinkRate),
      },
      {
        suite: SUITE,
        name: "XADD via ioredis, pipelined per 100 (ceiling)",
        ops: events,
        opsPerSec: directRate,
      },
      {
        suite: SUITE,
        name: "XADD via gateway + @upstash/redis, pipeline of 100",
        ops: events,
        opsPerSec: gatewayRate,
        note: pct(gatewayRate),
      },
    );

    rows.push(await mirrorLag(ctx, redis));
  } finally {
    redis.disconnect();
  }
  return rows;
}

/** Lag from each write's answer to its key in Redis, at a steady 500 writes/s. */
async function mirrorLag(
  ctx: BenchContext,
  redis: NonNullable<Awaited<ReturnType<typeof connectRedis>>>,
): Promise<BenchRow> {
  const call = client(ctx);
  const ns = name("mirror");
  const prefix = `${ns}:`;
  await call("PUT", `/v1/mirrors/state/${ns}`, { redis: { prefix } });
  const seconds = ctx.quick ? 2 : 10;
  const total = 500 * seconds;
  const acked = new Map<number, number>();
  const lags: number[] = [];
  // A watcher that reads the answered keys not yet seen, as fast as Redis answers. (A key can
  // show up before its write's answer: it then counts when the answer arrives, with a lag near 0.)
  const watcher = (async () => {
    const deadline = Date.now() + 120_000 + seconds * 1000;
    while (lags.length < total) {
      if (Date.now() > deadline) throw new Error(`mirror lag: ${total - lags.length} keys never arrived`);
      const ids = [...acked.keys()];
      if (ids.length === 0) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const values = await redis.mget(...ids.map((i) => `${prefix}k${i}`));
      const seenAt = performance.now();
      ids.forEach((i, n) => {
        if (values[n] === null) return;
        lags.push(seenAt - (acked.get(i) as number));
        acked.delete(i);
      });
    }
  })();
  const t0 = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    // Start write i at its slot of the 500/s schedule.
    const due = t0 + i * 2;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    writes.push(
      call("PUT", `/v1/state/${ns}/k${i}`, { value: i }).then(() => {
        acked.set(i, performance.now());
      }),
    );
  }
  await Promise.all(writes);
  const rate = total / ((performance.now() - t0) / 1000);
  await watcher;
  await call("DELETE", `/v1/mirrors/state/${ns}`);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys, `switchyard:mirror:${ns}`);
  const sorted = lags.sort((a, b) => a - b);
  return {
    suite: SUITE,
    name: "mirror lag at 500 writes/s (write answered → key in Redis)",
    ops: total,
    opsPerSec: rate,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
  };
}
