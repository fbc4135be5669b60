/**
 * Flow benchmarks: 1,000 parents with 10 children each (11,000 tasks), end to end: the flows are
 * enqueued (4 producers, one flow per request, or batches of 90 flows = 990 tasks per request)
 * while 8 consumers lease batches of up to 100 and ack them in one request, children first (a
 * parent is leasable only once its 10 children are done), until every parent is acked too. Each
 * with the children in the parent's queue and with them in a queue of their own (each child's
 * creation and end then travel between queue objects). The peer is BullMQ's FlowProducer on the
 * local Redis (`addBulk` of 100 flows, children in their own queue, Workers at concurrency 100 on
 * both queues, no-op jobs).
 */
import { FlowProducer, Queue, Worker } from "bullmq";
import { unwrap } from "../shared/errors.ts";
import { quantile } from "./lib/load.ts";
import { leaseAndAck, timedTransport } from "./lib/queue-ops.ts";
import { connectRedis, REDIS } from "./lib/redis.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const CHILDREN = 10;
const PRODUCERS = 4;
const CONSUMERS = 8;
const BATCH = 100;
/** Flows per request in the batched rows: 90 × 11 = 990 tasks, under the 1,000 a batch may hold. */
const FLOWS_PER_BATCH = 90;

const name = (label: string) => `bench-flow-${label}-${Date.now().toString(36)}`;

/**
 * Switchyard: `parents` flows of 10 children, `perRequest` flows per request (1: the one-flow
 * body; more: `{flows}`), children in a queue of their own when `separate`, else the parent's.
 */
async function switchyard(
  ctx: BenchContext,
  parents: number,
  separate: boolean,
  perRequest: number,
): Promise<BenchRow> {
  const latencies: number[] = [];
  const t = timedTransport(ctx, latencies);
  const parentQueue = name("parents");
  const childQueue = separate ? name("children") : parentQueue;
  const total = parents * (CHILDREN + 1);
  let enqueued = 0;
  let acked = 0;
  let finished = 0;
  const started = performance.now();
  let progressAt = started;
  const flow = (i: number) => ({
    parent: { payload: { i } },
    children: Array.from({ length: CHILDREN }, (_, j) => ({
      payload: { i, j },
      ...(separate ? { queue: childQueue } : {}),
    })),
  });
  const produce = async () => {
    while (enqueued < parents) {
      const first = enqueued;
      enqueued = Math.min(parents, first + perRequest);
      const flows = Array.from({ length: enqueued - first }, (_, k) => flow(first + k));
      unwrap(await t.flow(parentQueue, perRequest === 1 ? (flows[0] as ReturnType<typeof flow>) : { flows }));
    }
  };
  const consume = async (_: unknown, k: number) => {
    // With separate queues, half the consumers work each queue.
    const queue = separate && k % 2 === 1 ? childQueue : parentQueue;
    while (acked < total) {
      // Awaited first: `acked += await ...` would read `acked` before the wait and lose the other consumers' acks.
      const held = await leaseAndAck(t, queue, BATCH, (id) => id);
      acked += held;
      if (held > 0) progressAt = performance.now();
      // A stall is a bug to report, not a benchmark to wait for.
      else if (performance.now() - progressAt > 30_000) {
        const stats = [unwrap(await t.stats(parentQueue)), unwrap(await t.stats(childQueue))];
        throw new Error(`flows stalled at ${acked} of ${total} acked: ${JSON.stringify(stats)}`);
      }
      if (acked >= total && finished === 0) finished = performance.now();
    }
  };
  await Promise.all([
    ...Array.from({ length: PRODUCERS }, produce),
    ...Array.from({ length: CONSUMERS }, consume),
  ]);
  const seconds = (finished - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    suite: "flows",
    name: `${parents} parents × ${CHILDREN} children end to end, ${perRequest === 1 ? "one flow" : `${perRequest} flows`} per request, children in ${separate ? "a queue of their own" : "the parent's queue"}`,
    ops: total,
    opsPerSec: total / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    note: `${latencies.length} requests (${Math.ceil(parents / perRequest)} flow posts; lease and ack batches of up to ${BATCH}); ${PRODUCERS} producers, ${CONSUMERS} consumers`,
  };
}

/** BullMQ's FlowProducer: the same flows, children in their own queue, Workers at concurrency 100. */
async function bullmq(parents: number): Promise<BenchRow> {
  const connection = { ...REDIS, maxRetriesPerRequest: null };
  const parentQueue = name("bull-parents");
  const childQueue = name("bull-children");
  const total = parents * (CHILDREN + 1);
  const producer = new FlowProducer({ connection });
  let completed = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  const workers = [parentQueue, childQueue].map((queue) => {
    const worker = new Worker(queue, async (job) => job.id, { connection, concurrency: 100 });
    worker.on("completed", () => {
      if (++completed === total) finish();
    });
    return worker;
  });
  for (let i = 0; i < parents; i += 100) {
    const n = Math.min(100, parents - i);
    await producer.addBulk(
      Array.from({ length: n }, (_, k) => ({
        name: "parent",
        queueName: parentQueue,
        data: { i: i + k },
        children: Array.from({ length: CHILDREN }, (_, j) => ({
          name: "child",
          queueName: childQueue,
          data: { i: i + k, j },
        })),
      })),
    );
  }
  await allDone;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.close()));
  await producer.close();
  for (const queue of [parentQueue, childQueue]) {
    const q = new Queue(queue, { connection });
    await q.obliterate({ force: true });
    await q.close();
  }
  return {
    suite: "flows",
    name: `BullMQ FlowProducer ${parents} parents × ${CHILDREN} children end to end (peer)`,
    ops: total,
    opsPerSec: total / seconds,
    note: "addBulk of 100 flows, children in their own queue, Workers at concurrency 100, local Redis",
  };
}

const suite: BenchSuite = async (ctx) => {
  const parents = ctx.quick ? 100 : 1_000;
  const rows: BenchRow[] = [];
  for (const perRequest of [1, FLOWS_PER_BATCH])
    for (const separate of [false, true]) rows.push(await switchyard(ctx, parents, separate, perRequest));
  const redis = await connectRedis();
  redis?.disconnect();
  if (!redis) {
    rows.push({
      suite: "flows",
      name: "BullMQ FlowProducer (peer)",
      ops: 0,
      opsPerSec: 0,
      note: "skipped: no Redis at 127.0.0.1:6379",
    });
    return rows;
  }
  const peer = await bullmq(parents);
  for (const ours of rows)
    ours.note = `${ours.note}; ${(ours.opsPerSec / peer.opsPerSec).toFixed(2)}× BullMQ`;
  rows.push(peer);
  return rows;
};

export default suite;
