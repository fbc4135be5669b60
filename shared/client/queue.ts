/**
 * The typed queue client: produce tasks, inspect the queue, and consume it with a handler that
 * is leased tasks, kept holding them while it runs, and acked or nacked by its outcome. It runs
 * over any {@link QueueTransport}: HTTP ({@link httpQueueTransport}) or a service binding's
 * `queues()` RPC target.
 */
import { ApiError, type Result, unwrap } from "../errors.ts";
import { type BackoffPolicy, backoffDelay } from "../resilience/backoff.ts";
import type {
  AckBatchInput,
  DeadPage,
  DeadQueryRequest,
  JsonValue,
  LeasedTask,
  PurgeRequest,
  QueueStats,
  TaskInfo,
  TaskListRequest,
  TaskPage,
  TaskRequest,
} from "../schemas/queue.ts";
import type { QueueTransport } from "./queue-transport.ts";

export { httpQueueTransport } from "./http-queue-transport.ts";
export type { QueueTransport } from "./queue-transport.ts";

/** What a handler gets besides the task. */
export interface HandlerContext {
  /** Aborts when the lease is lost (an extension was refused): stop, the task will come again. */
  signal: AbortSignal;
}

/** Runs one task; its return value becomes the ack's `result`, a throw becomes a nack. */
export type TaskHandler = (
  task: LeasedTask,
  ctx: HandlerContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a handler that returns nothing (`async () => {}`) type-check
) => Promise<JsonValue | undefined | void>;

export interface ConsumeOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Most tasks per lease request (default 1; at most `concurrency` are ever held). */
  batch?: number;
  /** Lease time, extended every third of it while the handler runs (default 30 s). */
  visibilityMs?: number;
  /** Long-poll time per lease request; bounds how long a stop waits for an open poll (default 2 s). */
  waitMs?: number;
  /** Stops leasing when aborted; running handlers finish and are acked or nacked first. */
  signal?: AbortSignal;
  /** Told about failures of the transport and of acks; the consumer keeps going. */
  onError?: (error: unknown) => void;
}

/** What a consume run did. */
export interface ConsumeSummary {
  /** Handlers that returned and whose ack held. */
  completed: number;
  /** Handlers that threw: their tasks were nacked. */
  failed: number;
  /** Tasks whose lease was lost before the ack (they will be delivered again). */
  lost: number;
}

/** Waits after a failed lease request: 100 ms, doubling, up to 5 s. */
const RECONNECT_POLICY: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  jitter: "equal",
};

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 4096);

/** A transport call whose rejection (a network failure) becomes an `unavailable` result. */
function settled<T>(call: Promise<Result<T>>): Promise<Result<T>> {
  return call.catch((err: unknown) => ({
    ok: false,
    error: { code: "unavailable", message: errorText(err) },
  }));
}

/**
 * Coalesces acks: one is sent at once; those that arrive while it is in flight go together in the
 * next batch request. Resolves each ack to whether it held.
 */
class AckBatcher {
  private pending: Array<{ ack: AckBatchInput["acks"][number]; settle: (held: Result<boolean>) => void }> =
    [];
  private flushing: Promise<void> | undefined;
  private readonly transport: QueueTransport;
  private readonly queue: string;

  constructor(transport: QueueTransport, queue: string) {
    this.transport = transport;
    this.queue = queue;
  }

  ack(ack: AckBatchInput["acks"][number]): Promise<Result<boolean>> {
    return new Promise((settle) => {
      this.pending.push({ ack, settle });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const chunk = this.pending.splice(0, 1000);
      const sent = await settled(this.transport.ackBatch(this.queue, { acks: chunk.map((c) => c.ack) }));
      chunk.forEach((c, i) => {
        c.settle(sent.ok ? { ok: true, value: sent.value.results[i]?.ok === true } : sent);
      });
    }
    this.flushing = undefined;
  }
}

export class QueueClient {
  /** The transport underneath, for the raw operations (lease, ack, nack, extend). */
  readonly transport: QueueTransport;

  constructor(transport: QueueTransport) {
    this.transport = transport;
  }

  /** Enqueues one task; returns its id (a live task's id when the dedup key is taken). */
  async enqueue(queue: string, task: TaskRequest): Promise<string> {
    return unwrap(await this.transport.enqueue(queue, task)).ids[0] as string;
  }

  /** Enqueues up to 1000 tasks in one transaction; returns their ids in order. */
  async enqueueBatch(queue: string, tasks: TaskRequest[]): Promise<string[]> {
    return unwrap(await this.transport.enqueue(queue, { tasks })).ids;
  }

  /** One task as it stands. */
  async task(queue: string, id: string): Promise<TaskInfo> {
    return unwrap(await this.transport.task(queue, id));
  }

  /**
   * A page of the tasks in one state (`ready` in lease order, the others oldest first), or the
   * live task holding `dedupKey`; pass `cursor` back for the next page.
   * @example const { tasks, cursor } = await client.tasks("emails", { state: "delayed", limit: 100 });
   */
  async tasks(queue: string, query: TaskListRequest): Promise<TaskPage> {
    return unwrap(await this.transport.tasks(queue, query));
  }

  /** Makes a delayed task ready now; a task in any other state is a `conflict`. */
  async promote(queue: string, id: string): Promise<void> {
    unwrap(await this.transport.promote(queue, id));
  }

  /** The queue's counters. */
  async stats(queue: string): Promise<QueueStats> {
    return unwrap(await this.transport.stats(queue));
  }

  /** A page of the dead-letter queue. */
  async dead(queue: string, query: DeadQueryRequest = {}): Promise<DeadPage> {
    return unwrap(await this.transport.dead(queue, query));
  }

  /** Puts dead tasks (the listed ones, or all) back in the queue; returns how many. */
  async redrive(queue: string, ids?: string[]): Promise<number> {
    return unwrap(await this.transport.redrive(queue, ids ? { ids } : {})).redriven;
  }

  /** Deletes completed or dead tasks finished at least `olderThanMs` ago; returns how many. */
  async purge(queue: string, query: PurgeRequest): Promise<number> {
    return unwrap(await this.transport.purge(queue, query)).purged;
  }

  /**
   * Consumes `queue` until `signal` aborts: leases up to `batch` tasks at a time while fewer than
   * `concurrency` run, extends each lease while its handler runs, acks what returns (acks batched)
   * and nacks what throws (retried with the queue's backoff). Resolves once stopped and drained.
   * @example
   * const stop = new AbortController();
   * const done = client.consume("emails", async (task) => send(task.payload), { concurrency: 10, batch: 10, signal: stop.signal });
   */
  async consume(queue: string, handler: TaskHandler, options: ConsumeOptions = {}): Promise<ConsumeSummary> {
    const concurrency = Math.max(1, options.concurrency ?? 1);
    const batch = Math.min(1000, Math.max(1, options.batch ?? 1));
    const visibilityMs = options.visibilityMs ?? 30_000;
    const waitMs = options.waitMs ?? 2_000;
    const { signal, onError } = options;
    const summary: ConsumeSummary = { completed: 0, failed: 0, lost: 0 };
    const acks = new AckBatcher(this.transport, queue);
    const running = new Set<Promise<void>>();
    let failures = 0;
    while (!signal?.aborted) {
      while (running.size >= concurrency) await Promise.race(running);
      if (signal?.aborted) break;
      const max = Math.min(batch, concurrency - running.size);
      let tasks: LeasedTask[];
      try {
        tasks = unwrap(await this.transport.lease(queue, { max, visibilityMs, waitMs })).tasks;
        failures = 0;
      } catch (err) {
        onError?.(err);
        await pause(backoffDelay(RECONNECT_POLICY, ++failures, Math.random), signal);
        continue;
      }
      // Tasks leased are handled even when a stop came during the poll: they are ours now.
      for (const task of tasks) {
        const run = this.handle(queue, task, handler, visibilityMs, acks, summary, onError).finally(() =>
          running.delete(run),
        );
        running.add(run);
      }
    }
    await Promise.all(running);
    return summary;
  }

  /** Runs one task under a lease kept alive by extensions, then acks or nacks it. */
  private async handle(
    queue: string,
    task: LeasedTask,
    handler: TaskHandler,
    visibilityMs: number,
    acks: AckBatcher,
    summary: ConsumeSummary,
    onError: ((error: unknown) => void) | undefined,
  ): Promise<void> {
    const lease = new AbortController();
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const renew = () => {
      timer = setTimeout(async () => {
        const extended = await settled(
          this.transport.extend(queue, task.id, { leaseId: task.leaseId, visibilityMs }),
        );
        if (finished) return;
        const gone =
          !extended.ok && (extended.error.code === "lease_mismatch" || extended.error.code === "not_found");
        // A transient failure keeps trying: the lease may still outlive it.
        if (gone) lease.abort();
        else renew();
      }, visibilityMs / 3);
    };
    renew();
    let outcome: { ok: true; result: JsonValue | undefined } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, result: (await handler(task, { signal: lease.signal })) ?? undefined };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
    }
    if (lease.signal.aborted) {
      summary.lost++;
      return;
    }
    if (outcome.ok) {
      const held = await acks.ack({ id: task.id, leaseId: task.leaseId, result: outcome.result });
      if (!held.ok) onError?.(ApiError.from(held.error));
      if (held.ok && held.value) summary.completed++;
      else summary.lost++;
      return;
    }
    summary.failed++;
    const nacked = await settled(
      this.transport.nack(queue, task.id, { leaseId: task.leaseId, error: errorText(outcome.error) }),
    );
    if (!nacked.ok) onError?.(ApiError.from(nacked.error));
  }
}
