/**
 * Event bus benchmarks against a running Worker: publish throughput (single events and batches
 * of 100), publish-to-webhook latency and deliveries per second to a local `node:http` receiver,
 * publish-to-WebSocket fan-out latency to 100 subscribers, and NATS on 127.0.0.1:4222 as a
 * reference (skipped with a note when no server answers).
 */
import { once } from "node:events";
import { createServer } from "node:http";
import { connect as natsConnect } from "nats";
import { quantile, runLoad } from "./lib/load.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const SUITE = "bus";
const FANOUT_SUBSCRIBERS = 100;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across requests. */
const now = () => performance.timeOrigin + performance.now();

function topicName(label: string): string {
  return `bench-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

function api(ctx: BenchContext) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ctx.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

function row(name: string, ops: number, seconds: number, latencies: number[], note?: string): BenchRow {
  const sorted = [...latencies].sort((a, b) => a - b);
  const r: BenchRow = { suite: SUITE, name, ops, opsPerSec: ops / seconds };
  if (sorted.length > 0) {
    r.p50Ms = quantile(sorted, 0.5);
    r.p99Ms = quantile(sorted, 0.99);
  }
  if (note) r.note = note;
  return r;
}

async function publishThroughput(ctx: BenchContext): Promise<BenchRow[]> {
  const call = api(ctx);
  const durationMs = ctx.quick ? 1_000 : 5_000;
  const single = topicName("single");
  const one = await runLoad({
    concurrency: 16,
    durationMs,
    op: async (i) =>
      void (await call("POST", `/v1/topics/${single}/events`, { type: "bench.single", data: i })),
  });
  const batchTopic = topicName("batch");
  const events = Array.from({ length: 100 }, (_, i) => ({ type: "bench.batch", data: i }));
  const batch = await runLoad({
    concurrency: 4,
    durationMs,
    op: async () => void (await call("POST", `/v1/topics/${batchTopic}/events`, { events })),
  });
  return [
    { suite: SUITE, name: "publish 1 event, 16 concurrent", ...one },
    {
      suite: SUITE,
      name: "publish batch of 100, 4 concurrent",
      ...batch,
      note: `${Math.round(batch.opsPerSec * 100)} events/s`,
    },
  ];
}

async function webhookDelivery(ctx: BenchContext): Promise<BenchRow[]> {
  const call = api(ctx);
  const latencies: number[] = [];
  let received = 0;
  let lastAt = 0;
  let onArrival = () => {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const event = JSON.parse(Buffer.concat(chunks).toString()) as { data: { sentAt: number } };
      lastAt = now();
      latencies.push(lastAt - event.data.sentAt);
      received++;
      res.writeHead(204).end();
      onArrival();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  try {
    const topic = topicName("webhook");
    await call("PUT", `/v1/topics/${topic}/config`, { maxInFlight: 32 });
    await call("POST", `/v1/topics/${topic}/subscriptions`, { url: `http://127.0.0.1:${port}/hook` });
    const waitFor = (n: number) =>
      new Promise<void>((resolve) => {
        onArrival = () => received >= n && resolve();
        onArrival();
      });

    // Latency: one event at a time, each waiting for its delivery.
    const single = ctx.quick ? 50 : 300;
    const t0 = now();
    for (let i = 0; i < single; i++) {
      await call("POST", `/v1/topics/${topic}/events`, { type: "bench.hook", data: { sentAt: now() } });
      await waitFor(i + 1);
    }
    const latencyRow = row("publish → webhook delivered, sequential", single, (now() - t0) / 1000, latencies);

    // Throughput: a burst of batches, measured to the last delivery.
    latencies.length = 0;
    const burst = ctx.quick ? 500 : 2_000;
    const start = now();
    for (let i = 0; i < burst; i += 100) {
      const events = Array.from({ length: 100 }, () => ({ type: "bench.hook", data: { sentAt: now() } }));
      await call("POST", `/v1/topics/${topic}/events`, { events });
    }
    await waitFor(single + burst);
    const burstRow = row(
      `webhook deliveries, burst of ${burst}, 32 in flight`,
      burst,
      (lastAt - start) / 1000,
      latencies,
      "opsPerSec = deliveries/s",
    );
    return [latencyRow, burstRow];
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

async function websocketFanout(ctx: BenchContext): Promise<BenchRow> {
  const call = api(ctx);
  const topic = topicName("fanout");
  const wsUrl = `${ctx.baseUrl.replace(/^http/, "ws")}/v1/topics/${topic}/subscribe?token=${encodeURIComponent(ctx.token)}`;
  const latencies: number[] = [];
  let received = 0;
  let onMessage = () => {};
  const sockets = await Promise.all(
    Array.from({ length: FANOUT_SUBSCRIBERS }, async () => {
      const ws = new WebSocket(wsUrl);
      ws.addEventListener("message", (m) => {
        const { event } = JSON.parse(String(m.data)) as { event: { data: { sentAt: number } } };
        latencies.push(now() - event.data.sentAt);
        received++;
        onMessage();
      });
      await new Promise((resolve, reject) => {
        ws.addEventListener("open", resolve, { once: true });
        ws.addEventListener("error", reject, { once: true });
      });
      return ws;
    }),
  );
  try {
    const events = ctx.quick ? 10 : 50;
    const t0 = now();
    for (let i = 0; i < events; i++) {
      const target = (i + 1) * FANOUT_SUBSCRIBERS;
      const all = new Promise<void>((resolve) => {
        onMessage = () => received >= target && resolve();
      });
      await call("POST", `/v1/topics/${topic}/events`, { type: "bench.ws", data: { sentAt: now() } });
      await all;
    }
    const seconds = (now() - t0) / 1000;
    return row(
      `publish → WebSocket, fan-out to ${FANOUT_SUBSCRIBERS}`,
      received,
      seconds,
      latencies,
      `${events} events; latency to each subscriber`,
    );
  } finally {
    for (const ws of sockets) ws.close();
  }
}

async function natsReference(ctx: BenchContext): Promise<BenchRow> {
  const name = "NATS core publish → subscriber (reference)";
  let nc: Awaited<ReturnType<typeof natsConnect>>;
  try {
    nc = await natsConnect({ servers: "127.0.0.1:4222", timeout: 2_000 });
  } catch (err) {
    return {
      suite: SUITE,
      name,
      ops: 0,
      opsPerSec: 0,
      note: `skipped: no NATS on 127.0.0.1:4222 (${String(err)})`,
    };
  }
  try {
    const subject = topicName("nats");
    const latencies: number[] = [];
    let onMessage = () => {};
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        latencies.push(now() - Number(new TextDecoder().decode(msg.data)));
        onMessage();
      },
    });
    await nc.flush();
    const count = ctx.quick ? 200 : 2_000;
    const t0 = now();
    for (let i = 0; i < count; i++) {
      const arrived = new Promise<void>((resolve) => {
        onMessage = resolve;
      });
      nc.publish(subject, new TextEncoder().encode(String(now())));
      await arrived;
    }
    const seconds = (now() - t0) / 1000;
    sub.unsubscribe();
    return row(name, count, seconds, latencies, "sequential, no persistence");
  } finally {
    await nc.close();
  }
}

const busSuite: BenchSuite = async (ctx) => [
  ...(await publishThroughput(ctx)),
  ...(await webhookDelivery(ctx)),
  await websocketFanout(ctx),
  await natsReference(ctx),
];

export default busSuite;
