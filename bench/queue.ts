/**
 * Task queue benchmarks: 20,000 tasks end to end in batches of 100 (and of 1,000) over HTTP, the same with
 * streaming consumers (WebSockets) instead of HTTP leases, the single-task path (one request per
 * enqueue, lease and ack), and BullMQ on the local Redis with the same no-op tasks (`addBulk`, a
 * Worker at concurrency 100) as the peer. `rpc` runs the batches of 100 over the service binding, from a
 * bound Worker (bench/rpc-driver) on a second `wrangler dev`. `roundtrip` is request/response: 16
 * callers each enqueue one task and wait for its result (task info with `waitMs`), against BullMQ's
 * `job.waitUntilFinished()` with the same callers; `run` the same in one request each
 * (`POST .../run`). `BENCH_QUEUE_ROWS=streaming` (a comma-separated list of `batched`,
 * `batched1000`, `streaming`, `single`, `spread`, `rpc`, `roundtrip`, `run`) runs only those rows,
 * with their peer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, QueueEvents, Worker } from "bullmq";
import type { QueueApi } from "../shared/client/queue-api.ts";
import { unwrap } from "../shared/errors.ts";
import { freePort, startWorker } from "./lib/dev-server.ts";
import { type LatencySummary, quantile, runLoad, summarize } from "./lib/load.ts";
import { leaseAndAck, timedTransport } from "./lib/queue-ops.ts";
import { connectRedis, REDIS } from "./lib/redis.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";
import type { RunAnswer } from "./rpc-driver/answer.ts";

const BATCH = 100;
const PRODUCERS = 2;
const CONSUMERS = 8;

const queueName = (label: string) => `bench-${label}-${Date.now().toString(36)}`;

function row(name: string, tasks: number, seconds: number, latencies: number[], note: string): BenchRow {
  latencies.sort((a, b) => a - b);
  return {
    suite: "queue",
    name,
    ops: tasks,
    opsPerSec: tasks / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    note,
  };
}

/**
 * Producers enqueue batches of 100 while consumers lease 100 and ack them in one request; with
 * `queues` > 1 the same tasks are spread over that many queues (objects), producer and consumer
 * `k` working on queue `k % queues`.
 */
async function batched(ctx: BenchContext, total: number, queues = 1, batch = BATCH): Promise<BenchRow> {
  const latencies: number[] = [];
  const t = timedTransport(ctx, latencies);
  const names = Array.from({ length: queues }, (_, k) => queueName(`batched${k}`));
  const producers = Math.max(PRODUCERS, queues);
  let enqueued = 0;
  let acked = 0;
  let finished = 0;
  const started = performance.now();
  const produce = async (_: unknown, k: number) => {
    const queue = names[k % queues] as string;
    while (enqueued < total) {
      const n = Math.min(batch, total - enqueued);
      enqueued += n;
      const tasks = Array.from({ length: n }, (_, i) => ({ payload: { i } }));
      unwrap(await t.enqueue(queue, { tasks }));
    }
  };
  const consume = async (_: unknown, k: number) => {
    const queue = names[k % queues] as string;
    while (acked < total) {
      // Awaited first: `acked += await ...` would read `acked` before the wait and lose the other consumers' acks.
      const held = await leaseAndAck(t, queue, batch);
      acked += held;
      if (acked >= total && finished === 0) finished = performance.now();
    }
  };
  await Promise.all([
    ...Array.from({ length: producers }, produce),
    ...Array.from({ length: CONSUMERS }, consume),
  ]);
  // Until the last ack: the other consumers' open polls ending afterwards do not count.
  const seconds = (finished - started) / 1000;
  return row(
    `${total} tasks end to end, batches of ${batch}${queues > 1 ? `, spread over ${queues} queues` : ""}`,
    total,
    seconds,
    latencies,
    `${latencies.length} requests; ${producers} producers, ${CONSUMERS} consumers, ${queues === 1 ? "one queue" : `${queues} queues`}`,
  );
}

/** A socket the benchmark drives: Node 22's global WebSocket, the token in `?token=`. */
async function openConsumer(ctx: BenchContext, queue: string, prefetch: number): Promise<WebSocket> {
  const url = new URL(`/v1/queues/${queue}/consume`, ctx.baseUrl.replace(/^http/, "ws"));
  url.searchParams.set("prefetch", String(prefetch));
  url.searchParams.set("token", ctx.token);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("consumer socket refused")), { once: true });
  });
  return ws;
}

/**
 * Producers enqueue batches of 100 over HTTP while 8 streaming consumers (prefetch 100) ack each
 * push in one message as it arrives. Latencies: enqueue requests, and each ack message's round
 * trip (sent → `acked`).
 */
async function streaming(ctx: BenchContext, total: number): Promise<BenchRow> {
  const latencies: number[] = [];
  const roundTrips: number[] = [];
  const t = timedTransport(ctx, latencies);
  const queue = queueName("stream");
  const sockets = await Promise.all(Array.from({ length: CONSUMERS }, () => openConsumer(ctx, queue, BATCH)));
  let enqueued = 0;
  let acked = 0;
  let messages = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  for (const ws of sockets) {
    const sent: number[] = [];
    ws.addEventListener("message", (event) => {
      const m = JSON.parse(String(event.data)) as
        | { type: "tasks"; tasks: Array<{ id: string; leaseId: string }> }
        | { type: "acked"; results: Array<{ ok: boolean }> };
      messages++;
      if (m.type === "tasks") {
        sent.push(performance.now());
        ws.send(
          JSON.stringify({
            type: "ack",
            acks: m.tasks.map((task) => ({ id: task.id, leaseId: task.leaseId })),
          }),
        );
        return;
      }
      roundTrips.push(performance.now() - (sent.shift() as number));
      acked += m.results.filter((r) => r.ok).length;
      if (acked >= total) finish();
    });
  }
  const started = performance.now();
  const produce = async () => {
    while (enqueued < total) {
      const n = Math.min(BATCH, total - enqueued);
      enqueued += n;
      unwrap(await t.enqueue(queue, { tasks: Array.from({ length: n }, (_, i) => ({ payload: { i } })) }));
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, produce));
  // A stall is a bug to report, not a benchmark to wait for.
  let last = -1;
  while (acked < total) {
    const stalled = new Promise<"stalled">((resolve) => setTimeout(() => resolve("stalled"), 10_000));
    if ((await Promise.race([allDone, stalled])) === "stalled" && acked === last) {
      const stats = unwrap(await t.stats(queue));
      throw new Error(`streaming stalled at ${acked} of ${total} acked: ${JSON.stringify(stats)}`);
    }
    last = acked;
  }
  const seconds = (performance.now() - started) / 1000;
  for (const ws of sockets) ws.close(1000, "done");
  const requests = summarize(latencies);
  const acks = summarize(roundTrips);
  return row(
    `${total} tasks end to end, streaming consumers (prefetch ${BATCH}) + HTTP enqueue batches of ${BATCH}`,
    total,
    seconds,
    [...latencies, ...roundTrips],
    `${messages} socket messages, ${requests.calls} requests and ${acks.calls} ack round trips (p50/p99 ${acks.p50Ms.toFixed(1)}/${acks.p99Ms.toFixed(1)} ms per ack message, ${requests.p50Ms.toFixed(1)}/${requests.p99Ms.toFixed(1)} ms per enqueue request); ${PRODUCERS} producers, ${CONSUMERS} sockets, one queue`,
  );
}

/**
 * The batched row over the service binding: a second `wrangler dev` runs bench/rpc-driver (the
 * Worker on the port) beside Switchyard, and one `POST /run` has the driver enqueue and lease+ack
 * `total` tasks in batches of 100 over `await env.SWITCHYARD.queues()`. Time and latencies are the
 * driver's own, measured inside the runtime.
 */
async function rpc(total: number): Promise<BenchRow> {
  const stateDir = mkdtempSync(join(tmpdir(), "switchyard-bench-rpc-"));
  const port = await freePort();
  const worker = await startWorker(port, stateDir, [
    "-c",
    "bench/rpc-driver/wrangler.toml",
    "-c",
    "wrangler.toml",
  ]);
  try {
    const query = new URLSearchParams({
      total: String(total),
      batch: String(BATCH),
      producers: String(PRODUCERS),
      consumers: String(CONSUMERS),
    });
    const res = await fetch(`http://127.0.0.1:${port}/run?${query}`, { method: "POST" });
    if (!res.ok) throw new Error(`rpc driver answered ${res.status}: ${await res.text()}`);
    const run = (await res.json()) as RunAnswer;
    const ms = (l: LatencySummary) => `${l.p50Ms}/${l.p99Ms}`;
    return {
      suite: "queue",
      name: `${total} tasks end to end, batches of ${BATCH}, over the service binding from a bound Worker`,
      ops: total,
      opsPerSec: total / (run.elapsedMs / 1000),
      p50Ms: run.all.p50Ms,
      p99Ms: run.all.p99Ms,
      note:
        `${run.all.calls} RPC calls (p50/p99 ms: enqueue ${ms(run.enqueue)}, lease ${ms(run.lease)}, ack ${ms(run.ack)}); ` +
        `${PRODUCERS} producers, ${CONSUMERS} consumers, one queue; the driver runs on the local runtime's one thread ` +
        "with Switchyard (the HTTP rows' client is a separate Node process), so not directly comparable with them",
    };
  } finally {
    worker.kill();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** One request each for enqueue, lease and ack, from 16 loops. */
async function single(ctx: BenchContext, total: number): Promise<BenchRow> {
  const latencies: number[] = [];
  const t = timedTransport(ctx, latencies);
  const queue = queueName("single");
  const result = await runLoad({
    concurrency: 16,
    total,
    durationMs: 120_000,
    op: async (i) => {
      unwrap(await t.enqueue(queue, { payload: { i } }));
      const { tasks } = unwrap(await t.lease(queue, { max: 1 }));
      const task = tasks[0];
      if (task) unwrap(await t.ack(queue, task.id, { leaseId: task.leaseId }));
    },
  });
  return row(
    "single-task path (enqueue, lease, ack: 1 request each)",
    result.ops,
    result.ops / result.opsPerSec,
    latencies,
    "16 loops, one queue; p50/p99 per request",
  );
}

/** Callers waiting for their own task's result at once, in both round-trip rows. */
const CALLERS = 16;

/** How a round trip asks: enqueue, then task info with `waitMs` (two requests), or `run` (one). */
const ROUND_TRIPS = {
  roundtrip: {
    name: "request/response: enqueue one task, wait for its result (task info with waitMs)",
    send: async (t: QueueApi, queue: string, i: number) => {
      const [id] = unwrap(await t.enqueue(queue, { payload: { i } })).ids;
      return unwrap(await t.task(queue, id as string, { waitMs: 20_000 }));
    },
  },
  run: {
    name: "request/response in one request: POST .../run (enqueue one task, wait for its end)",
    send: async (t: QueueApi, queue: string, i: number) =>
      unwrap(await t.run(queue, { payload: { i } }, { waitMs: 20_000 })),
  },
};

/**
 * Request/response: {@link CALLERS} loops each enqueue one task and wait for its result, as `mode`
 * asks, while two streaming consumers ack each push with the payload as the result. Latencies: each
 * round trip, enqueue to result.
 */
async function roundTrip(
  ctx: BenchContext,
  total: number,
  mode: keyof typeof ROUND_TRIPS,
): Promise<BenchRow> {
  const t = timedTransport(ctx, []);
  const queue = queueName(mode);
  const sockets = await Promise.all([0, 1].map(() => openConsumer(ctx, queue, BATCH)));
  for (const ws of sockets) {
    ws.addEventListener("message", (event) => {
      const m = JSON.parse(String(event.data)) as {
        type: string;
        tasks?: Array<{ id: string; leaseId: string; payload: unknown }>;
      };
      if (m.type !== "tasks" || !m.tasks) return;
      const acks = m.tasks.map((task) => ({ id: task.id, leaseId: task.leaseId, result: task.payload }));
      ws.send(JSON.stringify({ type: "ack", acks }));
    });
  }
  const result = await runLoad({
    concurrency: CALLERS,
    total,
    durationMs: 120_000,
    op: async (i) => {
      const info = await ROUND_TRIPS[mode].send(t, queue, i);
      if (info.state !== "completed") throw new Error(`task ${info.id} answered ${info.state}`);
    },
  });
  for (const ws of sockets) ws.close(1000, "done");
  return {
    suite: "queue",
    name: ROUND_TRIPS[mode].name,
    ...result,
    note: `${CALLERS} callers, 2 streaming consumers acking each push; p50/p99 per round trip`,
  };
}

/** BullMQ's request/response: `add`, then `job.waitUntilFinished(queueEvents)`, from the same callers. */
async function bullmqRoundTrip(total: number): Promise<BenchRow> {
  const name = `bench-rt-${Date.now().toString(36)}`;
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const worker = new Worker(name, async (job) => job.data, { connection, concurrency: 100 });
  const result = await runLoad({
    concurrency: CALLERS,
    total,
    durationMs: 120_000,
    op: async (i) => {
      const job = await queue.add("rr", { i });
      await job.waitUntilFinished(events, 20_000);
    },
  });
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    suite: "queue",
    name: "BullMQ request/response (peer): add, job.waitUntilFinished()",
    ...result,
    note: `${CALLERS} callers, Worker concurrency 100, QueueEvents, local Redis; p50/p99 per round trip`,
  };
}

/** BullMQ: `addBulk` in chunks of 1000, a Worker at concurrency 100 running no-op jobs. */
async function bullmq(total: number): Promise<BenchRow> {
  const name = `bench-${Date.now().toString(36)}`;
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection });
  let completed = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  const worker = new Worker(name, async () => undefined, { connection, concurrency: 100 });
  worker.on("completed", () => {
    if (++completed === total) finish();
  });
  for (let i = 0; i < total; i += 1000) {
    const n = Math.min(1000, total - i);
    await queue.addBulk(Array.from({ length: n }, (_, j) => ({ name: "noop", data: { i: i + j } })));
  }
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return {
    suite: "queue",
    name: `BullMQ ${total} tasks end to end (peer)`,
    ops: total,
    opsPerSec: total / seconds,
    note: "addBulk of 1000, Worker concurrency 100, local Redis",
  };
}

const suite: BenchSuite = async (ctx) => {
  const total = ctx.quick ? 2_000 : 20_000;
  const wanted = process.env.BENCH_QUEUE_ROWS?.split(",");
  const runs: Array<[string, () => Promise<BenchRow>]> = [
    ["batched", () => batched(ctx, total)],
    ["batched1000", () => batched(ctx, total, 1, 1_000)],
    ["streaming", () => streaming(ctx, total)],
    ["single", () => single(ctx, ctx.quick ? 300 : 3_000)],
    // How throughput grows with objects; locally they share the machine's two cores.
    ["spread", () => batched(ctx, total, 4)],
    // A second `wrangler dev` with the bound driver Worker beside Switchyard.
    ["rpc", () => rpc(total)],
  ];
  const rows: BenchRow[] = [];
  for (const [name, run] of runs) {
    if (!wanted || wanted.includes(name)) rows.push(await ctx.profiled(`queue ${name}`, run));
  }
  const redis = await connectRedis();
  redis?.disconnect();
  const roundTrips = ctx.quick ? 300 : 3_000;
  const ourRoundTrips: BenchRow[] = [];
  for (const mode of ["roundtrip", "run"] as const) {
    if (wanted && !wanted.includes(mode)) continue;
    ourRoundTrips.push(await ctx.profiled(`queue ${mode}`, () => roundTrip(ctx, roundTrips, mode)));
  }
  rows.push(...ourRoundTrips);
  if (redis) {
    const peer = await bullmq(total);
    for (const ours of rows.filter((r) => r.ops === total)) {
      ours.note = `${ours.note}; ${(ours.opsPerSec / peer.opsPerSec).toFixed(2)}× BullMQ`;
    }
    rows.push(peer);
    if (ourRoundTrips.length > 0) {
      const rtPeer = await bullmqRoundTrip(roundTrips);
      for (const ours of ourRoundTrips) {
        ours.note = `${ours.note}; ${(ours.opsPerSec / rtPeer.opsPerSec).toFixed(2)}× BullMQ`;
      }
      rows.push(rtPeer);
    }
  } else {
    rows.push({
      suite: "queue",
      name: "BullMQ (peer)",
      ops: 0,
      opsPerSec: 0,
      note: "skipped: no Redis at 127.0.0.1:6379",
    });
  }
  return rows;
};

export default suite;
