/**
 * The service-binding benchmark's driver: a Worker bound to Switchyard's `SwitchyardRpc`, so the
 * tasks go through `await env.SWITCHYARD.queues()`, the transport the typed client uses over a
 * binding. `POST /run?total=20000&batch=100&producers=2&consumers=8` enqueues `total` no-op tasks in
 * batches while consumers lease a batch and ack it in one call, and answers a {@link RunAnswer}.
 * It runs on the same local runtime (and thread) as Switchyard; see bench/queue.ts.
 */
import type { QueueApi } from "../../shared/client/queue-api.ts";
import { unwrap } from "../../shared/errors.ts";
import type { SwitchyardRpc } from "../../workers/rpc.ts";
import { summarize } from "../lib/load.ts";
import type { RunAnswer } from "./answer.ts";

interface Env {
  SWITCHYARD: Service<SwitchyardRpc>;
}

interface RunParams {
  total: number;
  batch: number;
  producers: number;
  consumers: number;
}

/** A run that makes no progress for this long is a stall to report, not one to wait for. */
const STALL_MS = 30_000;

/** The query's counts, each an integer in its range (absent ones take the default). */
function params(url: URL): RunParams | string {
  const read = (key: string, fallback: number, max: number): number | string => {
    const raw = url.searchParams.get(key);
    const n = raw === null ? fallback : Number(raw);
    return Number.isInteger(n) && n >= 1 && n <= max ? n : `${key} must be an integer from 1 to ${max}`;
  };
  const total = read("total", 20_000, 1_000_000);
  const batch = read("batch", 100, 1_000);
  const producers = read("producers", 2, 64);
  const consumers = read("consumers", 8, 64);
  for (const v of [total, batch, producers, consumers]) if (typeof v === "string") return v;
  return { total, batch, producers, consumers } as RunParams;
}

async function run(env: Env, p: RunParams): Promise<RunAnswer> {
  using stub = await env.SWITCHYARD.queues();
  const t: QueueApi = stub;
  const queue = `bench-rpc-${Date.now().toString(36)}`;
  const times = { enqueue: [] as number[], lease: [] as number[], ack: [] as number[] };
  // The runtime's clock moves only across I/O; every call timed here is one, so the spans hold.
  const timed = async <T>(into: number[], call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const value = await call();
    into.push(performance.now() - started);
    return value;
  };
  let enqueued = 0;
  let acked = 0;
  let finished = 0;
  let progressAt = performance.now();
  const started = performance.now();
  const produce = async () => {
    while (enqueued < p.total) {
      const n = Math.min(p.batch, p.total - enqueued);
      enqueued += n;
      const tasks = Array.from({ length: n }, (_, i) => ({ payload: { i } }));
      unwrap(await timed(times.enqueue, () => t.enqueue(queue, { tasks })));
    }
  };
  const consume = async () => {
    while (acked < p.total) {
      const { tasks } = unwrap(await timed(times.lease, () => t.lease(queue, { max: p.batch, waitMs: 200 })));
      if (tasks.length === 0) {
        if (performance.now() - progressAt > STALL_MS)
          throw new Error(`stalled at ${acked} of ${p.total} acked`);
        continue;
      }
      const acks = tasks.map((task) => ({ id: task.id, leaseId: task.leaseId }));
      const { results } = unwrap(await timed(times.ack, () => t.ackBatch(queue, { acks })));
      acked += results.filter((r) => r.ok).length;
      progressAt = performance.now();
      if (acked >= p.total && finished === 0) finished = performance.now();
    }
  };
  await Promise.all([
    ...Array.from({ length: p.producers }, produce),
    ...Array.from({ length: p.consumers }, consume),
  ]);
  return {
    queue,
    ...p,
    // Until the last ack: the other consumers' open polls ending afterwards do not count.
    elapsedMs: finished - started,
    all: summarize([...times.enqueue, ...times.lease, ...times.ack]),
    enqueue: summarize(times.enqueue),
    lease: summarize(times.lease),
    ack: summarize(times.ack),
  };
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    // The harness waits for this before it runs anything.
    if (url.pathname === "/health") return new Response("ok");
    if (request.method !== "POST" || url.pathname !== "/run")
      return new Response("not found", { status: 404 });
    const p = params(url);
    if (typeof p === "string") return Response.json({ error: p }, { status: 400 });
    try {
      return Response.json(await run(env, p));
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
