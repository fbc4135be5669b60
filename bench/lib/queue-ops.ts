/** What the queue and flow benchmarks share: a timed HTTP transport and one lease-and-ack round. */
import { HttpTransport } from "../../shared/client/http.ts";
import { httpQueues, type QueueApi } from "../../shared/client/queue-api.ts";
import { unwrap } from "../../shared/errors.ts";
import type { BenchContext } from "./types.ts";

/** A transport whose every request's latency lands in `latencies`. */
export function timedTransport(ctx: BenchContext, latencies: number[]): QueueApi {
  return httpQueues(
    new HttpTransport({
      baseUrl: ctx.baseUrl,
      token: ctx.token,
      fetch: async (request) => {
        const started = performance.now();
        const res = await fetch(request);
        await res.clone().arrayBuffer();
        latencies.push(performance.now() - started);
        return res;
      },
    }),
  );
}

/**
 * Leases up to `max` tasks of `queue` (a long poll of 200 ms) and acks them in one request;
 * returns how many acks held. `result` gives each ack's result (none by default).
 */
export async function leaseAndAck(
  t: QueueApi,
  queue: string,
  max: number,
  result?: (id: string) => string,
): Promise<number> {
  const { tasks } = unwrap(await t.lease(queue, { max, waitMs: 200 }));
  if (tasks.length === 0) return 0;
  const acks = tasks.map((task) => ({
    id: task.id,
    leaseId: task.leaseId,
    ...(result ? { result: result(task.id) } : {}),
  }));
  const { results } = unwrap(await t.ackBatch(queue, { acks }));
  return results.filter((r) => r.ok).length;
}
