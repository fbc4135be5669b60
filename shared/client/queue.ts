/**
 * The typed queue client: produce tasks, inspect the queue, and consume it with a handler that
 * is leased tasks, kept holding them while it runs, and acked or nacked by its outcome. It runs
 * over any {@link QueueApi}: HTTP ({@link httpQueues}), a service binding ({@link rpcQueues}) or
 * the binding's `queues()` RPC target itself.
 */
import { ApiError, isErrorCode, type Result, unwrap } from "../errors.ts";
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
  TaskQueryRequest,
  TaskRequest,
} from "../schemas/queue.ts";
import type { QueueConfig, QueueConfigRequestInput } from "../schemas/queue-config.ts";
import type { FlowCreatedOutput, FlowRequestInput } from "../schemas/queue-flow.ts";
import type {
  ScheduleInfo,
  ScheduleListRequest,
  SchedulePage,
  ScheduleRequestInput,
} from "../schemas/queue-schedule.ts";
import type { ServerMessage } from "../schemas/queue-stream.ts";
import type { ConsumerSocket, QueueApi } from "./queue-api.ts";
import { type CloseInfo, endsForGood } from "./socket-end.ts";

export { QUEUE_CALLS } from "./calls.ts";
export { httpQueues, type QueueApi, type QueueRpcBinding, rpcQueues } from "./queue-api.ts";

/** What a handler gets besides the task. */
export interface HandlerContext {
  /** Aborts when the lease is lost (an extension was refused): stop, the task will come again. */
  signal: AbortSignal;
  /**
   * Reports the task's progress (any JSON, at most 4 KiB as JSON text), replacing the last one: it
   * shows in task info and stays through retries. Rejects with an `ApiError` when refused.
   * @example await ctx.progress({ done: 40, of: 100 });
   */
  progress(progress: JsonValue): Promise<void>;
  /**
   * Appends log lines (1 to 100, each at most 1 KiB) to the task, marked with this attempt; the
   * task keeps its newest 100. Rejects with an `ApiError` when refused.
   * @example await ctx.log("fetched 40 rows", "retrying row 41");
   */
  log(...lines: string[]): Promise<void>;
}

/** A task as its lease holder names it: what progress and log calls need. */
export type HeldTask = Pick<LeasedTask, "id" | "leaseId">;

/** Runs one task; its return value becomes the ack's `result`, a throw becomes a nack. */
export type TaskHandler = (
  task: LeasedTask,
  ctx: HandlerContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: lets a handler that returns nothing (`async () => {}`) type-check
) => Promise<JsonValue | undefined | void>;

export interface ConsumeOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Most tasks per lease request (default 1; at most `concurrency` are ever held). HTTP leases only. */
  batch?: number;
  /** Lease time, extended every third of it while the handler runs (default 30 s). */
  visibilityMs?: number;
  /** Long-poll time per lease request; bounds how long a stop waits for an open poll (default 2 s). HTTP leases only. */
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

/** The longest one task-info request may wait (the contract's `waitMs` bound). */
const MAX_TASK_WAIT_MS = 20_000;

/** Whether a task has ended: what a wait for its end waits for. */
const hasEnded = (info: TaskInfo) => info.state === "completed" || info.state === "dead";

/** Failures of a wait for a task's end that say nothing of the task: {@link QueueClient.finished} asks again. */
const RETRIED_POLL_FAILURES: ReadonlySet<string> = new Set(["internal", "unavailable"]);

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 4096);

/** A transport call whose rejection (a network failure) becomes an `unavailable` result. */
function settled<T>(call: Promise<Result<T>>): Promise<Result<T>> {
  return call.catch((err: unknown) => ({
    ok: false,
    error: { code: "unavailable", message: errorText(err) },
  }));
}

type AckEntry = AckBatchInput["acks"][number];

/**
 * Coalesces acks, over HTTP or a consumer socket alike: one batch is sent at once; acks that
 * arrive while it is in flight go together in the next (at most 1000 a batch). Resolves each ack
 * to whether it held, or to the failure of its whole batch.
 */
class AckBatcher {
  private pending: Array<{ ack: AckEntry; settle: (held: Result<boolean>) => void }> = [];
  private flushing: Promise<void> | undefined;
  private readonly send: (acks: AckEntry[]) => Promise<Result<{ results: Array<{ ok: boolean }> }>>;

  constructor(send: AckBatcher["send"]) {
    this.send = send;
  }

  ack(ack: AckEntry): Promise<Result<boolean>> {
    return new Promise((settle) => {
      this.pending.push({ ack, settle });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const chunk = this.pending.splice(0, 1000);
      const sent = await this.send(chunk.map((c) => c.ack));
      chunk.forEach((c, i) => {
        c.settle(sent.ok ? { ok: true, value: sent.value.results[i]?.ok === true } : sent);
      });
    }
    this.flushing = undefined;
  }
}

/** What a running task needs from its consumer: keep the lease, report, then ack or nack it. */
interface LeaseOps {
  extend(task: LeasedTask): Promise<Result<unknown>>;
  progress(task: LeasedTask, progress: JsonValue): Promise<Result<unknown>>;
  log(task: LeasedTask, lines: string[]): Promise<Result<unknown>>;
  /** Resolves to whether the ack held. */
  ack(task: LeasedTask, result: JsonValue | undefined): Promise<Result<boolean>>;
  nack(task: LeasedTask, error: string): Promise<Result<unknown>>;
}

const socketGone = (): Result<never> => ({
  ok: false,
  // The server gave the socket's tasks back when it closed: their leases are gone.
  error: { code: "lease_mismatch", message: "the consumer socket closed" },
});

/**
 * One streaming consumer socket: pushed tasks go to `onTasks`; acks (batched: one message in
 * flight, the rest gathered for the next), nacks and extensions are matched to the server's
 * answers, which come in the order sent.
 */
class StreamSession implements LeaseOps {
  onTasks: (tasks: LeasedTask[]) => void = () => undefined;
  /** Resolves when the socket has closed (or failed), with the close's code and reason. */
  readonly closed: Promise<CloseInfo>;
  private readonly socket: ConsumerSocket;
  private readonly visibilityMs: number;
  private readonly answers: Array<(m: ServerMessage | undefined) => void> = [];
  // Once the socket is gone, a batch's request answers undefined at once: its acks fail with socketGone.
  private readonly acks = new AckBatcher(async (acks) => {
    const answer = await this.request({ type: "ack", acks });
    return answer?.type === "acked" ? { ok: true, value: answer } : this.failure(answer);
  });
  private gone = false;

  constructor(socket: ConsumerSocket, visibilityMs: number) {
    this.socket = socket;
    this.visibilityMs = visibilityMs;
    let closed: (close: CloseInfo) => void = () => undefined;
    this.closed = new Promise((resolve) => {
      closed = resolve;
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as ServerMessage;
      if (message.type === "tasks") this.onTasks(message.tasks);
      else this.answers.shift()?.(message);
    });
    // A socket of the caller's own may call listeners with no event.
    const end = ({ code, reason }: CloseInfo = {}) => {
      if (this.gone) return;
      this.gone = true;
      for (const answer of this.answers.splice(0)) answer(undefined);
      closed({ code, reason });
    };
    socket.addEventListener("close", end);
    socket.addEventListener("error", () => end({}));
  }

  async extend(task: LeasedTask): Promise<Result<unknown>> {
    const answer = await this.request({
      type: "extend",
      id: task.id,
      leaseId: task.leaseId,
      visibilityMs: this.visibilityMs,
    });
    return answer?.type === "extended" ? { ok: true, value: answer } : this.failure(answer);
  }

  async nack(task: LeasedTask, error: string): Promise<Result<unknown>> {
    const answer = await this.request({ type: "nack", id: task.id, leaseId: task.leaseId, error });
    return answer?.type === "nacked" ? { ok: true, value: answer } : this.failure(answer);
  }

  async progress(task: LeasedTask, progress: JsonValue): Promise<Result<unknown>> {
    const answer = await this.request({ type: "progress", id: task.id, leaseId: task.leaseId, progress });
    return answer?.type === "progressed" ? { ok: true, value: answer } : this.failure(answer);
  }

  async log(task: LeasedTask, lines: string[]): Promise<Result<unknown>> {
    const answer = await this.request({ type: "log", id: task.id, leaseId: task.leaseId, lines });
    return answer?.type === "logged" ? { ok: true, value: answer } : this.failure(answer);
  }

  ack(task: LeasedTask, result: JsonValue | undefined): Promise<Result<boolean>> {
    return this.acks.ack({ id: task.id, leaseId: task.leaseId, result });
  }

  close(): void {
    try {
      this.socket.close(1000, "consumer stopped");
    } catch {
      // Already closed.
    }
  }

  /** Sends a message; resolves with its answer, or undefined when the socket closed first. */
  private request(message: object): Promise<ServerMessage | undefined> {
    if (this.gone) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.answers.push(resolve);
      try {
        this.socket.send(JSON.stringify(message));
      } catch {
        this.answers.splice(this.answers.indexOf(resolve), 1);
        resolve(undefined);
      }
    });
  }

  private failure(answer: ServerMessage | undefined): Result<never> {
    if (answer?.type === "error" && isErrorCode(answer.error.code)) {
      return { ok: false, error: { code: answer.error.code, message: answer.error.message } };
    }
    return socketGone();
  }
}

export class QueueClient {
  /** The transport underneath, for the raw operations (lease, ack, nack, extend). */
  readonly transport: QueueApi;

  constructor(transport: QueueApi) {
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

  /**
   * Enqueues a flow: the parent becomes ready (with `childResults`) once every child has ended.
   * @example const { id, children } = await client.flow("reports", { parent: { payload: { kind: "merge" } }, children: [{ payload: 1 }, { queue: "pdf", payload: 2 }] });
   */
  async flow(queue: string, flow: FlowRequestInput): Promise<FlowCreatedOutput> {
    const created = unwrap(await this.transport.flow(queue, flow));
    return "flows" in created ? (created.flows[0] as FlowCreatedOutput) : created;
  }

  /**
   * Enqueues up to 500 flows (1,000 tasks in all) in one transaction, on the same route as
   * {@link flow}; returns one answer per flow, in order.
   * @example const [a, b] = await client.flows("reports", [{ parent: { payload: 1 }, children: [{ payload: 2 }] }, { parent: { payload: 3 }, children: [{ queue: "pdf", payload: 4 }] }]);
   */
  async flows(queue: string, flows: FlowRequestInput[]): Promise<FlowCreatedOutput[]> {
    const created = unwrap(await this.transport.flow(queue, { flows }));
    return "flows" in created ? created.flows : [created];
  }

  /** One task as it stands; with `waitMs` (at most 20 s), once it has ended, if it does by then. */
  async task(queue: string, id: string, query: TaskQueryRequest = {}): Promise<TaskInfo> {
    return unwrap(await this.transport.task(queue, id, query));
  }

  /**
   * Waits for a task to end, in long polls of up to 20 s: its info the moment it is `completed`
   * or `dead`, or as it stands once `timeoutMs` (default 60 s) has passed (check `state`). A poll
   * cut short by a restart of the queue's object (`internal`, or a rejected RPC call) or the
   * network (`unavailable`) is asked again, as is one that a queue holding too many waits
   * answered at once, a second later. Throws the `ApiError` of any other failure (`not_found`: no
   * such task, or it or its queue was deleted).
   * @example const done = await client.finished("thumbnails", id, { timeoutMs: 30_000 });
   * if (done.state === "completed") return done.result;
   */
  async finished(queue: string, id: string, { timeoutMs = 60_000 } = {}): Promise<TaskInfo> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const asked = Date.now();
      const waitMs = Math.floor(Math.max(0, Math.min(MAX_TASK_WAIT_MS, until - asked)));
      const answer = await settled(this.transport.task(queue, id, { waitMs }));
      const late = Date.now() >= until;
      if (answer.ok && (late || hasEnded(answer.value))) {
        return answer.value;
      }
      if (!answer.ok && (late || !RETRIED_POLL_FAILURES.has(answer.error.code))) {
        throw ApiError.from(answer.error);
      }
      if (!answer.ok || Date.now() - asked < waitMs / 2) await pause(Math.min(1_000, until - Date.now()));
    }
  }

  /**
   * Enqueues one task and waits for its end (request/response over the queue): its info the
   * moment it is `completed` or `dead`, or as it stands once `timeoutMs` (default 20 s, one
   * request) has passed (check `state`). A longer `timeoutMs` goes on as {@link finished} does,
   * as does a `dedupKey` that a live task already holds (the route answers `conflict` with its
   * id): both read the task, so the token needs `read` on the queue as well as `write`. The
   * enqueue is never sent twice; a `dedupKey` makes a retry of your own wait on the first task
   * while it is live.
   * @example const { state, result } = await client.run("thumbnails", { payload: { url } });
   */
  async run(queue: string, task: TaskRequest, { timeoutMs = MAX_TASK_WAIT_MS } = {}): Promise<TaskInfo> {
    const until = Date.now() + timeoutMs;
    const waitMs = Math.floor(Math.max(0, Math.min(MAX_TASK_WAIT_MS, timeoutMs)));
    const answer = await this.transport.run(queue, task, { waitMs });
    const holder = answer.ok ? undefined : answer.error.details?.id;
    if (!answer.ok && answer.error.code === "conflict" && typeof holder === "string") {
      return this.finished(queue, holder, { timeoutMs: until - Date.now() });
    }
    const info = unwrap(answer);
    if (hasEnded(info) || Date.now() >= until) return info;
    return this.finished(queue, info.id, { timeoutMs: until - Date.now() });
  }

  /**
   * A page of the tasks in one state (`ready` in lease order, the others oldest first), or the
   * live task holding `dedupKey`; pass `cursor` back for the next page.
   * @example const { tasks, cursor } = await client.tasks("emails", { state: "delayed", limit: 100 });
   */
  async tasks(queue: string, query: TaskListRequest): Promise<TaskPage> {
    return unwrap(await this.transport.tasks(queue, query));
  }

  /**
   * Reports a leased task's progress (any JSON, at most 4 KiB as JSON text) as its lease holder.
   * Handlers given by {@link consume} call `ctx.progress` instead.
   * @example await client.progress("emails", task, { sent: 3 });
   */
  async progress(queue: string, task: HeldTask, progress: JsonValue): Promise<void> {
    unwrap(await this.transport.progress(queue, task.id, { leaseId: task.leaseId, progress }));
  }

  /** Appends log lines (1 to 100, each at most 1 KiB) to a leased task as its lease holder. */
  async log(queue: string, task: HeldTask, lines: string[]): Promise<void> {
    unwrap(await this.transport.logs(queue, task.id, { leaseId: task.leaseId, lines }));
  }

  /**
   * Deletes a task no consumer holds (ready or delayed; needs `admin`): a flow parent waiting for it
   * hears of it as a dead child. A leased, ended or waiting task is a `conflict`.
   * @example await client.deleteTask("emails", id); // the reminder must not go after all
   */
  async deleteTask(queue: string, id: string): Promise<void> {
    unwrap(await this.transport.deleteTask(queue, id));
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

  /** Pauses the queue: leases and pushes hand out nothing until {@link resume}; returns the flag. */
  async pause(queue: string): Promise<boolean> {
    return unwrap(await this.transport.pause(queue)).paused;
  }

  /** Resumes a paused queue; returns the flag (false). */
  async resume(queue: string): Promise<boolean> {
    return unwrap(await this.transport.resume(queue)).paused;
  }

  /** Deletes the queue: every task in every state, its counters and the paused flag. */
  async deleteQueue(queue: string): Promise<void> {
    unwrap(await this.transport.deleteQueue(queue));
  }

  /**
   * Sets the queue's lease limits: an absent field stays, null removes that limit.
   * @example await client.setConfig("emails", { rateLimit: { leases: 100, periodMs: 1000 }, maxLeased: 20 });
   */
  async setConfig(queue: string, config: QueueConfigRequestInput): Promise<QueueConfig> {
    return unwrap(await this.transport.setConfig(queue, config));
  }

  /** The queue's lease limits. */
  async config(queue: string): Promise<QueueConfig> {
    return unwrap(await this.transport.config(queue));
  }

  /**
   * Creates or replaces a schedule: each run enqueues `task` (dedup key derived from the run time).
   * @example await client.putSchedule("reports", "weekday-9am", { cron: "0 9 * * 1-5", timezone: "Europe/Berlin", task: { payload: { kind: "report" } } });
   */
  async putSchedule(queue: string, name: string, schedule: ScheduleRequestInput): Promise<ScheduleInfo> {
    return unwrap(await this.transport.putSchedule(queue, name, schedule));
  }

  /** A page of the queue's schedules in name order; pass `cursor` back for the next one. */
  async schedules(queue: string, query: ScheduleListRequest = {}): Promise<SchedulePage> {
    return unwrap(await this.transport.schedules(queue, query));
  }

  /** One schedule with its next run times. */
  async schedule(queue: string, name: string): Promise<ScheduleInfo> {
    return unwrap(await this.transport.schedule(queue, name));
  }

  /** Pauses a schedule (no runs until resumed). */
  async pauseSchedule(queue: string, name: string): Promise<ScheduleInfo> {
    return unwrap(await this.transport.pauseSchedule(queue, name));
  }

  /** Resumes a schedule: it runs next at its first time after now. */
  async resumeSchedule(queue: string, name: string): Promise<ScheduleInfo> {
    return unwrap(await this.transport.resumeSchedule(queue, name));
  }

  /** Deletes a schedule; the tasks it enqueued stay. */
  async deleteSchedule(queue: string, name: string): Promise<void> {
    unwrap(await this.transport.deleteSchedule(queue, name));
  }

  /** Deletes completed or dead tasks finished at least `olderThanMs` ago; returns how many. */
  async purge(queue: string, query: PurgeRequest): Promise<number> {
    return unwrap(await this.transport.purge(queue, query)).purged;
  }

  /**
   * Consumes `queue` until `signal` aborts: takes tasks while fewer than `concurrency` run,
   * extends each lease while its handler runs, acks what returns (acks batched) and nacks what
   * throws (retried with the queue's backoff). Resolves once stopped and drained. Where the
   * transport can open a WebSocket (HTTP), tasks are pushed over a streaming consumer socket
   * with `prefetch` = `concurrency`; else (or when the socket cannot be opened) it leases up to
   * `batch` tasks per HTTP long poll of `waitMs`. Rejects with the {@link ApiError} once the
   * token ends (it expired, was revoked, or does not allow consuming: `unauthorized`,
   * `forbidden`), after the running handlers have finished: retrying with it cannot help.
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
    const streamed = await this.consumeStreaming(queue, handler, {
      concurrency,
      visibilityMs,
      summary,
      ...options,
    });
    if (streamed === "done") return summary;
    const ops = this.httpLeaseOps(queue, visibilityMs);
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
        const end = endsForGood(err);
        if (end) {
          await Promise.all(running);
          throw end;
        }
        onError?.(err);
        await pause(backoffDelay(RECONNECT_POLICY, ++failures, Math.random), signal);
        continue;
      }
      // Tasks leased are handled even when a stop came during the poll: they are ours now.
      for (const task of tasks) {
        const run = this.handle(task, handler, visibilityMs, ops, summary, onError).finally(() =>
          running.delete(run),
        );
        running.add(run);
      }
    }
    await Promise.all(running);
    return summary;
  }

  /**
   * Consumes over a streaming socket while the transport can open one: the server pushes up to
   * `concurrency` tasks at a time, acks are batched on the socket. Answers "fallback" when no
   * socket could be opened (the caller goes on with HTTP leases), "done" once stopped and drained.
   * Tasks pushed after the stop are not started: closing the socket gives them back (their
   * attempt counts, as for any lease that ends without an ack).
   */
  private async consumeStreaming(
    queue: string,
    handler: TaskHandler,
    options: ConsumeOptions & { concurrency: number; visibilityMs: number; summary: ConsumeSummary },
  ): Promise<"done" | "fallback"> {
    // Over RPC (a service binding) every method name answers, and calling this one rejects.
    const transport = this.transport;
    if (!transport.openConsumer) return "fallback";
    const { concurrency, visibilityMs, summary, signal, onError } = options;
    const running = new Set<Promise<void>>();
    let failures = 0;
    let connected = false;
    while (!signal?.aborted) {
      let socket: ConsumerSocket;
      try {
        socket = await (transport.openConsumer as NonNullable<QueueApi["openConsumer"]>)(queue, {
          prefetch: concurrency,
          visibilityMs,
        });
      } catch (err) {
        if (!connected) return "fallback";
        const end = endsForGood(err);
        if (end) throw end;
        onError?.(err);
        await pause(backoffDelay(RECONNECT_POLICY, ++failures, Math.random), signal);
        continue;
      }
      connected = true;
      failures = 0;
      const session = new StreamSession(socket, visibilityMs);
      session.onTasks = (tasks) => {
        if (signal?.aborted) return;
        for (const task of tasks) {
          const run = this.handle(task, handler, visibilityMs, session, summary, onError).finally(() =>
            running.delete(run),
          );
          running.add(run);
        }
      };
      const stopped = new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      const close = await Promise.race([stopped, session.closed]);
      // Running handlers finish and are acked on this socket before it closes.
      while (running.size > 0) await Promise.all(running);
      session.close();
      const end = endsForGood(close);
      if (end) throw end;
    }
    return "done";
  }

  /** The lease operations of the HTTP (or RPC) path: one request each, acks batched. */
  private httpLeaseOps(queue: string, visibilityMs: number): LeaseOps {
    const acks = new AckBatcher((batch) => settled(this.transport.ackBatch(queue, { acks: batch })));
    return {
      extend: (task) =>
        settled(this.transport.extend(queue, task.id, { leaseId: task.leaseId, visibilityMs })),
      ack: (task, result) => acks.ack({ id: task.id, leaseId: task.leaseId, result }),
      nack: (task, error) => settled(this.transport.nack(queue, task.id, { leaseId: task.leaseId, error })),
      progress: (task, progress) =>
        settled(this.transport.progress(queue, task.id, { leaseId: task.leaseId, progress })),
      log: (task, lines) => settled(this.transport.logs(queue, task.id, { leaseId: task.leaseId, lines })),
    };
  }

  /** Runs one task under a lease kept alive by extensions, then acks or nacks it. */
  private async handle(
    task: LeasedTask,
    handler: TaskHandler,
    visibilityMs: number,
    ops: LeaseOps,
    summary: ConsumeSummary,
    onError: ((error: unknown) => void) | undefined,
  ): Promise<void> {
    const lease = new AbortController();
    let finished = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const renew = () => {
      timer = setTimeout(async () => {
        const extended = await ops.extend(task);
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
      const ctx: HandlerContext = {
        signal: lease.signal,
        progress: async (progress) => {
          unwrap(await ops.progress(task, progress));
        },
        log: async (...lines) => {
          unwrap(await ops.log(task, lines));
        },
      };
      outcome = { ok: true, result: (await handler(task, ctx)) ?? undefined };
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
      const held = await ops.ack(task, outcome.result);
      if (!held.ok) onError?.(ApiError.from(held.error));
      if (held.ok && held.value) summary.completed++;
      else summary.lost++;
      return;
    }
    summary.failed++;
    const nacked = await ops.nack(task, errorText(outcome.error));
    if (!nacked.ok) onError?.(ApiError.from(nacked.error));
  }
}
