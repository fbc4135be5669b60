/**
 * The hardest case of the Redis stream sink, end to end: 10,000 events published to a Worker run by
 * wrangler, appended through the real gateway to a real Redis while the gateway drops answers after
 * Redis applied them, the Worker is stopped mid-burst and started again on its persisted state, and
 * the gateway (Redis as the Worker sees it) is gone for a while. A consumer group then reads the
 * stream: every event exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unstable_dev } from "wrangler";
import { type Gateway, startGateway } from "../../../scripts/upstash-gateway/server.ts";
import { Published, TopicStats } from "../../../shared/schemas/bus.ts";
import { bodyOf, callWorker } from "../answer.ts";
import { freePort, TOKEN, until } from "../bus/worker.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const GATEWAY_TOKEN = "crash-test-token";
const EVENTS = 10_000;
const BATCH = 500;

let stateDir = "";
let gateway: Gateway;
let gatewayPort = 0;
let redis: Redis;
let worker: Awaited<ReturnType<typeof unstable_dev>> | undefined;
let workerPort = 0;
const stream = `switchyard-crash-${process.pid}-${Date.now()}`;
const topic = `crash-${process.pid}-${Date.now()}`;

async function startWorker(): Promise<void> {
  worker = await unstable_dev("workers/index.ts", {
    config: "wrangler.toml",
    ip: "127.0.0.1",
    port: workerPort,
    inspectorPort: await freePort(),
    persistTo: stateDir,
    logLevel: "error",
    vars: {
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${gatewayPort}`,
      UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
    },
    experimental: { disableExperimentalWarning: true, watch: false },
  });
}

const call = (method: string, path: string, body?: unknown) =>
  callWorker(`http://127.0.0.1:${workerPort}`, TOKEN, method, path, body);

const published: string[] = [];
let next = 0;

/** Publishes the next `n` events in batches. */
async function publish(n: number): Promise<void> {
  for (let sent = 0; sent < n; sent += BATCH) {
    const events = Array.from({ length: Math.min(BATCH, n - sent) }, () => ({
      type: "crash.event",
      data: { n: next++ },
    }));
    const res = await call("POST", `/v1/topics/${topic}/events`, { events });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    published.push(...bodyOf(Published, res).ids);
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "switchyard-redis-crash-"));
  redis = new Redis(REDIS_URL);
  gateway = await startGateway({ redisUrl: REDIS_URL, token: GATEWAY_TOKEN });
  gatewayPort = Number(new URL(gateway.url).port);
  workerPort = await freePort();
  await startWorker();
});

afterAll(async () => {
  await worker?.stop();
  await gateway?.close();
  const records = (await redis?.keys(`switchyard:sink:${topic}:*`)) ?? [];
  await redis?.del(stream, ...records);
  redis?.disconnect();
  await rm(stateDir, { recursive: true, force: true });
});

it("appends 10,000 events exactly once through lost answers, a Worker restart and an outage", {
  timeout: 600_000,
}, async () => {
  expect((await call("PUT", `/v1/topics/${topic}/config`, { maxUndelivered: 1_000_000 })).status).toBe(200);
  const sub = await call("POST", `/v1/topics/${topic}/subscriptions`, {
    redis: { stream },
    maxAttempts: 50,
    retry: { initialDelayMs: 50, maxDelayMs: 1_000 },
  });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);

  // Lost answers: the gateway applies 2 appends and drops their answers. (Fewer than the failures
  // in a row that mark a receiver down: more would switch the sink to one probe at a time, which
  // the outage below tests.)
  gateway.faults.dropAnswers = 2;
  gateway.faults.dropCommand = "evalsha";
  await publish(2_500);

  // The Worker stops mid-burst (attempts in flight are cut off) and starts again on its state.
  await until(async () => ((await redis.xlen(stream)) > 500 ? true : undefined), 120_000, "first appends");
  await worker?.stop();
  await startWorker();
  await publish(2_500);

  // Redis, as the Worker sees it, goes away for a while: the gateway stops, then comes back. (The
  // wait only holds the outage open; nothing waits on processing.)
  const dropped = gateway.counters.dropped;
  await gateway.close();
  await publish(2_500);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  gateway = await startGateway({ redisUrl: REDIS_URL, token: GATEWAY_TOKEN, port: gatewayPort });
  await publish(EVENTS - 7_500);

  await until(
    async () => {
      const stats = bodyOf(TopicStats, await call("GET", `/v1/topics/${topic}/stats`));
      return stats.subscriptions[0]?.pending === 0 ? stats : undefined;
    },
    480_000,
    "every delivery",
  );
  expect(published).toHaveLength(EVENTS);

  // A consumer group reads everything once and acknowledges it.
  await redis.xgroup("CREATE", stream, "verify", "0");
  const seen = new Map<string, number>();
  for (;;) {
    const batch = (await redis.xreadgroup("GROUP", "verify", "c1", "COUNT", 1000, "STREAMS", stream, ">")) as
      | [string, [string, string[]][]][]
      | null;
    const entries = batch?.[0]?.[1] ?? [];
    if (entries.length === 0) break;
    for (const [entryId, fields] of entries) {
      const id = fields[fields.indexOf("id") + 1] as string;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      await redis.xack(stream, "verify", entryId);
    }
  }
  const duplicated = [...seen.values()].filter((n) => n > 1).length;
  const lost = published.filter((id) => !seen.has(id)).length;
  expect({ lost, duplicated, entries: seen.size }).toEqual({ lost: 0, duplicated: 0, entries: EVENTS });
  expect(dropped).toBeGreaterThan(0);
  const stats = bodyOf(TopicStats, await call("GET", `/v1/topics/${topic}/stats`));
  expect(stats.subscriptions[0]).toMatchObject({ pending: 0, deadLetters: 0 });
});
