/**
 * The queue operations as the client calls them: the same inputs as the HTTP bodies, failures as
 * results with the contract's codes. {@link QUEUE_CALLS} declares them once; {@link httpQueues}
 * runs them over HTTP, {@link rpcQueues} over a service binding, and the Worker's `queues()` RPC
 * target offers them as is.
 */
import type { Result } from "../errors.ts";
import type {
  AckBatchInput,
  AckBatchOutput,
  AckInput,
  DeadPage,
  DeadQueryRequest,
  EnqueueRequestInput,
  ExtendInput,
  LeasedTask,
  LeaseRequestInput,
  NackOutput,
  NackRequestInput,
  PurgeRequest,
  QueueStats,
  RedriveInput,
  TaskInfo,
  TaskListRequest,
  TaskPage,
  TaskQueryRequest,
} from "../schemas/queue.ts";
import type { QueueConfig, QueueConfigRequestInput } from "../schemas/queue-config.ts";
import type { EnqueueFlowRequestInput, FlowsEnqueuedOutput } from "../schemas/queue-flow.ts";
import type { LogsInput, LogsOutput, ProgressInput, ProgressOutput } from "../schemas/queue-progress.ts";
import type {
  ScheduleInfo,
  ScheduleListRequest,
  SchedulePage,
  ScheduleRequestInput,
} from "../schemas/queue-schedule.ts";
import type { ConsumeRequest } from "../schemas/queue-stream.ts";
import type { ClientSocket, HttpTransport } from "./http.ts";
import { bindingTransport, type CallTable, callsOver, httpTransport, queryString } from "./transport.ts";

/** The queue operations, as both transports offer them. */
export interface QueueApi {
  enqueue(queue: string, input: EnqueueRequestInput): Promise<Result<{ ids: string[] }>>;
  /**
   * Enqueues a flow (a parent that waits for its children), answered `FlowCreated`, or a batch
   * `{flows}` in one transaction, answered `{flows: [FlowCreated, ...]}`.
   */
  flow(queue: string, input: EnqueueFlowRequestInput): Promise<Result<FlowsEnqueuedOutput>>;
  lease(queue: string, input: LeaseRequestInput): Promise<Result<{ tasks: LeasedTask[] }>>;
  ack(queue: string, id: string, input: AckInput): Promise<Result<{ id: string; state: "completed" }>>;
  ackBatch(queue: string, input: AckBatchInput): Promise<Result<AckBatchOutput>>;
  nack(queue: string, id: string, input: NackRequestInput): Promise<Result<NackOutput>>;
  extend(queue: string, id: string, input: ExtendInput): Promise<Result<{ leaseExpiresAt: number }>>;
  /** Reports a held task's progress (`POST .../tasks/{id}/progress`). */
  progress(queue: string, id: string, input: ProgressInput): Promise<Result<ProgressOutput>>;
  /** Appends log lines to a held task (`POST .../tasks/{id}/logs`). */
  logs(queue: string, id: string, input: LogsInput): Promise<Result<LogsOutput>>;
  promote(queue: string, id: string): Promise<Result<{ id: string; state: "ready" }>>;
  /** Deletes a task no consumer holds (ready or delayed). */
  deleteTask(queue: string, id: string): Promise<Result<{ id: string; deleted: true }>>;
  /** With `waitMs`, answered once the task has ended (or as it stands after `waitMs`). */
  task(queue: string, id: string, query?: TaskQueryRequest): Promise<Result<TaskInfo>>;
  tasks(queue: string, input: TaskListRequest): Promise<Result<TaskPage>>;
  stats(queue: string): Promise<Result<QueueStats>>;
  dead(queue: string, input: DeadQueryRequest): Promise<Result<DeadPage>>;
  redrive(queue: string, input: RedriveInput): Promise<Result<{ redriven: number }>>;
  purge(queue: string, input: PurgeRequest): Promise<Result<{ purged: number }>>;
  pause(queue: string): Promise<Result<{ paused: boolean }>>;
  resume(queue: string): Promise<Result<{ paused: boolean }>>;
  deleteQueue(queue: string): Promise<Result<{ deleted: true }>>;
  /** Changes the lease limits (absent fields stay, null removes one). */
  setConfig(queue: string, input: QueueConfigRequestInput): Promise<Result<QueueConfig>>;
  config(queue: string): Promise<Result<QueueConfig>>;
  /** Creates or replaces a schedule. */
  putSchedule(queue: string, name: string, input: ScheduleRequestInput): Promise<Result<ScheduleInfo>>;
  schedules(queue: string, input: ScheduleListRequest): Promise<Result<SchedulePage>>;
  schedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  pauseSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  resumeSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  deleteSchedule(queue: string, name: string): Promise<Result<{ deleted: true }>>;
  /**
   * Opens a streaming consumer socket (`GET /v1/queues/{queue}/consume`); absent where the
   * transport cannot (the client then consumes with HTTP leases).
   */
  openConsumer?(queue: string, query: ConsumeRequest): Promise<ConsumerSocket>;
}

/** The part of a WebSocket a streaming consumer uses (browsers, Node 22, Workers). */
export type ConsumerSocket = ClientSocket;

/** The queue calls, as the Worker declares them (its queue operations table). */
export const QUEUE_CALLS = {
  enqueue: { http: "POST /v1/queues/{queue}/tasks", args: ["queue", "body"] },
  flow: { http: "POST /v1/queues/{queue}/flows", args: ["queue", "body"] },
  lease: { http: "POST /v1/queues/{queue}/lease", args: ["queue", "body"] },
  ack: { http: "POST /v1/queues/{queue}/tasks/{id}/ack", args: ["queue", "id", "body"] },
  ackBatch: { http: "POST /v1/queues/{queue}/ack", args: ["queue", "body"] },
  nack: { http: "POST /v1/queues/{queue}/tasks/{id}/nack", args: ["queue", "id", "body"] },
  extend: { http: "POST /v1/queues/{queue}/tasks/{id}/extend", args: ["queue", "id", "body"] },
  progress: { http: "POST /v1/queues/{queue}/tasks/{id}/progress", args: ["queue", "id", "body"] },
  logs: { http: "POST /v1/queues/{queue}/tasks/{id}/logs", args: ["queue", "id", "body"] },
  promote: { http: "POST /v1/queues/{queue}/tasks/{id}/promote", args: ["queue", "id"] },
  deleteTask: { http: "DELETE /v1/queues/{queue}/tasks/{id}", args: ["queue", "id"] },
  task: { http: "GET /v1/queues/{queue}/tasks/{id}", args: ["queue", "id", "query"] },
  tasks: { http: "GET /v1/queues/{queue}/tasks", args: ["queue", "query"] },
  stats: { http: "GET /v1/queues/{queue}/stats", args: ["queue"] },
  dead: { http: "GET /v1/queues/{queue}/dead", args: ["queue", "query"] },
  redrive: { http: "POST /v1/queues/{queue}/dead/redrive", args: ["queue", "body"] },
  purge: { http: "DELETE /v1/queues/{queue}/tasks", args: ["queue", "query"] },
  pause: { http: "POST /v1/queues/{queue}/pause", args: ["queue"] },
  resume: { http: "POST /v1/queues/{queue}/resume", args: ["queue"] },
  deleteQueue: { http: "DELETE /v1/queues/{queue}", args: ["queue"] },
  setConfig: { http: "PUT /v1/queues/{queue}/config", args: ["queue", "body"] },
  config: { http: "GET /v1/queues/{queue}/config", args: ["queue"] },
  putSchedule: { http: "PUT /v1/queues/{queue}/schedules/{name}", args: ["queue", "name", "body"] },
  schedules: { http: "GET /v1/queues/{queue}/schedules", args: ["queue", "query"] },
  schedule: { http: "GET /v1/queues/{queue}/schedules/{name}", args: ["queue", "name"] },
  pauseSchedule: { http: "POST /v1/queues/{queue}/schedules/{name}/pause", args: ["queue", "name"] },
  resumeSchedule: { http: "POST /v1/queues/{queue}/schedules/{name}/resume", args: ["queue", "name"] },
  deleteSchedule: { http: "DELETE /v1/queues/{queue}/schedules/{name}", args: ["queue", "name"] },
} as const satisfies CallTable;

/**
 * The queue operations over HTTP, with streaming consumer sockets. Contract errors come back as
 * failed results.
 * @example new QueueClient(httpQueues(new HttpTransport({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" })))
 */
export function httpQueues(http: HttpTransport): QueueApi {
  return {
    ...callsOver<QueueApi>(httpTransport(http), "queues", QUEUE_CALLS),
    openConsumer: (queue, query) =>
      http.openSocket(`/v1/queues/${encodeURIComponent(queue)}/consume${queryString(query)}`),
  };
}

/** A service binding to Switchyard's `SwitchyardRpc` entrypoint, as far as queues go. */
export interface QueueRpcBinding {
  queues(): QueueApi | Promise<QueueApi>;
}

/**
 * The queue operations over a service binding: no HTTP, no JSON, no auth header; the binding's
 * queue target is asked for on each call (RPC stubs pipeline). No streaming sockets: the client
 * consumes with leases.
 * @example const queues = new QueueClient(rpcQueues(env.SWITCHYARD));
 */
export const rpcQueues = (binding: QueueRpcBinding): QueueApi =>
  callsOver(bindingTransport(binding), "queues", QUEUE_CALLS);
