/**
 * The queue operations as a transport carries them: the same inputs as the HTTP bodies, failures
 * as results with the contract's codes. The Worker's `QueueRpc` (service binding) implements it
 * as is; {@link httpQueueTransport} implements it over `fetch`.
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
} from "../schemas/queue.ts";
import type { QueueConfig, QueueConfigRequestInput } from "../schemas/queue-config.ts";
import type { FlowCreatedOutput, FlowRequestInput } from "../schemas/queue-flow.ts";
import type { LogsInput, LogsOutput, ProgressInput, ProgressOutput } from "../schemas/queue-progress.ts";
import type {
  ScheduleInfo,
  ScheduleListRequest,
  SchedulePage,
  ScheduleRequestInput,
} from "../schemas/queue-schedule.ts";
import type { ConsumeRequest } from "../schemas/queue-stream.ts";
import type { ClientSocket } from "./http.ts";

export interface QueueTransport {
  enqueue(queue: string, input: EnqueueRequestInput): Promise<Result<{ ids: string[] }>>;
  /** Enqueues a flow: a parent that waits for its children. */
  flow(queue: string, input: FlowRequestInput): Promise<Result<FlowCreatedOutput>>;
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
  task(queue: string, id: string): Promise<Result<TaskInfo>>;
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
