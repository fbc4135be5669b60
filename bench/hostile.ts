/**
 * Issue 22's benchmark rows: the runtime's resident memory while 4 clients each stream a 64 MiB
 * body (goal: flat, under 96 MiB of growth), read latency in a namespace while 100,000 of its
 * keys expire at once (goal: p99 under 100 ms), and publish latency on a topic while one of its
 * WebSockets floods junk, and the same for writes to a state namespace and enqueues (goal:
 * unchanged within noise); and the same for a topic and a consumer socket flooding well-formed acks
 * of nothing, which the relay must forward.
 */
import { Worker } from "node:worker_threads";
import type { FloodSeen } from "./lib/flood-thread.ts";
import { quantile } from "./lib/load.ts";
import { peakResidentDuring, streamBody } from "./lib/runtime-memory.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const MiB = 1024 * 1024;
/** Puts per seeding transaction (the contract's maximum). */
const TXN_OPS = 128;
/** Seeding transactions in flight at once. */
const SEEDERS = 8;

async function send(ctx: BenchContext, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${ctx.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function request(ctx: BenchContext, method: string, path: string, body?: unknown): Promise<number> {
  const res = await send(ctx, method, path, body);
  await res.arrayBuffer();
  return res.status;
}

/**
 * The namespace's version, read by writing a probe key: every expiry takes one version, so the
 * difference between two probes (less the second probe's own) is how many keys expired in between.
 */
async function namespaceVersion(ctx: BenchContext, ns: string): Promise<number> {
  const res = await send(ctx, "PUT", `/v1/state/${ns}/probe`, { value: 0 });
  if (res.status !== 200) throw new Error(`probe answered ${res.status}`);
  return ((await res.json()) as { version: number }).version;
}

/** Sorted latencies of reads of one key, one at a time, for `ms`. */
async function readLatencies(ctx: BenchContext, ns: string, ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const start = performance.now();
    const status = await request(ctx, "GET", `/v1/state/${ns}/reader`);
    latencies.push(performance.now() - start);
    if (status !== 200) throw new Error(`read answered ${status}`);
  }
  return latencies.sort((a, b) => a - b);
}

async function memoryRow(ctx: BenchContext): Promise<BenchRow> {
  const clients = 4;
  const size = (ctx.quick ? 16 : 64) * MiB;
  const start = performance.now();
  const run = await peakResidentDuring(() =>
    Promise.all(
      Array.from({ length: clients }, (_, i) =>
        streamBody(`${ctx.baseUrl}/v1/state/bench-bodies/k${i}`, ctx.token, size),
      ),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  const growth = (run.peak - run.before) / MiB;
  return {
    suite: "hostile",
    name: `${clients} clients each stream ${size / MiB} MiB (chunked)`,
    ops: clients,
    opsPerSec: clients / seconds,
    note: `runtime RSS ${(run.before / MiB).toFixed(0)} → peak ${(run.peak / MiB).toFixed(0)} MiB (+${growth.toFixed(1)} MiB; goal < 96); answers ${[...new Set(run.value)].join(",")}`,
  };
}

async function expiryRow(ctx: BenchContext): Promise<BenchRow> {
  const keys = ctx.quick ? 10_000 : 100_000;
  const ns = `bench-expiry-${Date.now()}`;
  await request(ctx, "PUT", `/v1/state/${ns}/reader`, { value: "read me" });
  const idle = await readLatencies(ctx, ns, ctx.quick ? 1_000 : 3_000);
  // Every key expires at one instant, after seeding is done.
  const seedStart = Date.now();
  const expiresAt = seedStart + (ctx.quick ? 20_000 : 120_000);
  let next = 0;
  const seeder = async () => {
    while (next < keys) {
      const from = next;
      next += TXN_OPS;
      const ttlMs = expiresAt - Date.now();
      const success = Array.from({ length: Math.min(TXN_OPS, keys - from) }, (_, i) => ({
        op: "put" as const,
        key: `mass/${from + i}`,
        value: from + i,
        ttlMs,
      }));
      const status = await request(ctx, "POST", `/v1/state/${ns}/txn`, { success });
      if (status !== 200) throw new Error(`seeding answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: SEEDERS }, seeder));
  const seeded = Date.now();
  if (seeded >= expiresAt) throw new Error("seeding took longer than the keys' TTL");
  await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now()));
  // Reads of another key while the alarm removes the 100,000 in steps.
  const windowMs = ctx.quick ? 3_000 : 10_000;
  const before = await namespaceVersion(ctx, ns);
  const latencies = await readLatencies(ctx, ns, windowMs);
  const expired = (await namespaceVersion(ctx, ns)) - before - 1;
  return {
    suite: "hostile",
    name: `GET another key while ${keys.toLocaleString("en")} keys expire`,
    ops: latencies.length,
    opsPerSec: latencies.length / (windowMs / 1000),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    note: `goal p99 < 100 ms; idle p50/p99 ${quantile(idle, 0.5).toFixed(1)}/${quantile(idle, 0.99).toFixed(1)} ms; ${expired.toLocaleString("en")} keys expired meanwhile (${Math.round(expired / (windowMs / 1000))}/s); seeding took ${((seeded - seedStart) / 1000).toFixed(0)} s and ended ${((expiresAt - seeded) / 1000).toFixed(0)} s before the expiry`,
  };
}

/**
 * What a flood row floods and times: the subscribe socket of a topic or a namespace, and the
 * writes a quiet client makes to that same object meanwhile.
 */
interface FloodTarget {
  name: string;
  /** The subscribe route of `id`. */
  socket(id: string): string;
  /** One write to `id`, and the status it answers. */
  write(id: string): [method: string, path: string, body: unknown, status: number];
  /** The frame the flooder sends, `{i}` its number (default: junk). */
  frame?: string;
}

const TOPIC_FLOOD: FloodTarget = {
  name: "publish while one socket floods junk",
  socket: (topic) => `/v1/topics/${topic}/subscribe`,
  write: (topic) => ["POST", `/v1/topics/${topic}/events`, { type: "bench.quiet", data: 1 }, 202],
};

const STATE_FLOOD: FloodTarget = {
  name: "state PUT while one socket floods junk",
  socket: (ns) => `/v1/state/${ns}/subscribe`,
  write: (ns) => ["PUT", `/v1/state/${ns}/quiet`, { value: 1 }, 200],
};

/** The queue's consumer socket: relayed too, with the consumers' messages forwarded to the object. */
const CONSUME_FLOOD: FloodTarget = {
  name: "enqueue while one consumer socket floods junk",
  socket: (queue) => `/v1/queues/${queue}/consume`,
  write: (queue) => ["POST", `/v1/queues/${queue}/tasks`, { payload: 1 }, 201],
};

/** Well-formed acks of events that were never sent: the relay forwards each to the topic. */
const TOPIC_ACK_FLOOD: FloodTarget = {
  ...TOPIC_FLOOD,
  name: "publish while one socket floods acks of nothing",
  frame: '{"type":"ack","seq":9{i}}',
};

/** Well-formed acks of tasks that do not exist: the relay forwards each to the queue, which answers it. */
const CONSUME_ACK_FLOOD: FloodTarget = {
  ...CONSUME_FLOOD,
  name: "enqueue while one consumer socket floods acks of nothing",
  frame: '{"type":"ack","acks":[{"id":"no-such-task-{i}","leaseId":"none"}]}',
};

/** Sorted latencies of `target`'s writes to `id`, one at a time, for `ms`. */
async function writeLatencies(
  ctx: BenchContext,
  target: FloodTarget,
  id: string,
  ms: number,
): Promise<number[]> {
  const [method, path, body, status] = target.write(id);
  const latencies: number[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const start = performance.now();
    const answered = await request(ctx, method, path, body);
    latencies.push(performance.now() - start);
    if (answered !== status) throw new Error(`${method} ${path} answered ${answered}`);
  }
  return latencies.sort((a, b) => a - b);
}

/** Frames one flooding socket sends at once, as the attack in issue 22 did. */
const FLOOD_FRAMES = 20_000;

/**
 * One subscriber socket at a time on `path` sending {@link FLOOD_FRAMES} frames (`frame`, junk by
 * default); when the Worker closes it (1008 after 10 junk), the next one connects and floods again, until stopped.
 * Runs on its own thread (see lib/flood-thread.ts).
 */
function flood(ctx: BenchContext, path: string, frame = "junk {i}") {
  const url = `${ctx.baseUrl.replace(/^http/, "ws")}${path}?token=${encodeURIComponent(ctx.token)}`;
  const thread = new Worker(new URL("./lib/flood-thread.ts", import.meta.url), {
    workerData: { url, frames: FLOOD_FRAMES, frame },
  });
  const seen = new Promise<FloodSeen>((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
  });
  return {
    /** Stops flooding; resolves with what the flooder did once its last socket has closed. */
    stop(): Promise<FloodSeen> {
      thread.postMessage("stop");
      return seen;
    },
  };
}

/** Writes timed quiet, while one socket on the same object floods junk, then quiet again. */
async function floodRow(ctx: BenchContext, target: FloodTarget): Promise<BenchRow> {
  const id = `bench-flood-${Date.now()}`;
  const phaseMs = ctx.quick ? 2_000 : 5_000;
  await writeLatencies(ctx, target, id, 500);
  // Quiet, flooded, quiet again: both quiet phases are the baseline, so drift shows as a gap between them.
  const quietBefore = await writeLatencies(ctx, target, id, phaseMs);
  const flooder = flood(ctx, target.socket(id), target.frame);
  const flooded = await writeLatencies(ctx, target, id, phaseMs);
  const { sockets, frames, closedPolicy, refused } = await flooder.stop();
  const quietAfter = await writeLatencies(ctx, target, id, phaseMs);
  const quiet = [...quietBefore, ...quietAfter].sort((a, b) => a - b);
  return {
    suite: "hostile",
    name: target.name,
    ops: flooded.length,
    opsPerSec: flooded.length / (phaseMs / 1000),
    p50Ms: quantile(flooded, 0.5),
    p99Ms: quantile(flooded, 0.99),
    note: `goal: as quiet within noise; quiet p50/p99 ${quantile(quiet, 0.5).toFixed(1)}/${quantile(quiet, 0.99).toFixed(1)} ms (before ${quantile(quietBefore, 0.5).toFixed(1)}/${quantile(quietBefore, 0.99).toFixed(1)}, after ${quantile(quietAfter, 0.5).toFixed(1)}/${quantile(quietAfter, 0.99).toFixed(1)}); ${sockets} flooding sockets sent ${frames.toLocaleString("en")} frames, ${closedPolicy} closed 1008, ${refused.toLocaleString("en")} upgrades refused`,
  };
}

/** `BENCH_HOSTILE_ROWS=expiry,flood,consume-ack-flood` runs some of the rows (default: all). */
const ROWS: Record<string, (ctx: BenchContext) => Promise<BenchRow>> = {
  memory: memoryRow,
  expiry: expiryRow,
  flood: (ctx) => floodRow(ctx, TOPIC_FLOOD),
  "state-flood": (ctx) => floodRow(ctx, STATE_FLOOD),
  "consume-flood": (ctx) => floodRow(ctx, CONSUME_FLOOD),
  "ack-flood": (ctx) => floodRow(ctx, TOPIC_ACK_FLOOD),
  "consume-ack-flood": (ctx) => floodRow(ctx, CONSUME_ACK_FLOOD),
};

const hostileSuite: BenchSuite = async (ctx) => {
  const names = process.env.BENCH_HOSTILE_ROWS?.split(",") ?? Object.keys(ROWS);
  const rows: BenchRow[] = [];
  for (const name of names) {
    const run = ROWS[name];
    if (!run) throw new Error(`no hostile row ${name}; known: ${Object.keys(ROWS).join(", ")}`);
    rows.push(await run(ctx));
  }
  return rows;
};

export default hostileSuite;
