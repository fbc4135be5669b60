/**
 * The client's calls, generated from the Worker's operation tables by scripts/client-calls.ts:
 * do not edit; `npm run generate:calls` writes it again.
 */
import type { Result } from "../errors.ts";
import type {
  BreakerAcquired,
  BreakerInfo,
  BreakerOutcome,
  BreakerRecorded,
  BreakerSettings,
} from "../schemas/breaker.ts";
import type {
  DeadLetterPage,
  EventsPageValue,
  PublishResult,
  RedisTargetValue,
  SubscriptionInfo,
  TopicConfigPatchValue,
  TopicConfigValue,
  TopicStatsValue,
} from "../schemas/bus.ts";
import type { ExtendInput, LockGrant, LockInfo, ReleaseInput } from "../schemas/lock.ts";
import type { MirrorStatus } from "../schemas/mirror.ts";
import type {
  AckBatchOutput,
  LeasedTask,
  LeaseRequestInput,
  NackOutput,
  NackRequestInput,
  PurgeRequest,
  QueueStats,
  RedriveInput,
  TaskInfo,
  TaskListRequest,
  TaskQueryRequest,
  TaskRequest,
} from "../schemas/queue.ts";
import type { QueueConfig, QueueConfigRequestInput } from "../schemas/queue-config.ts";
import type { FlowCreatedOutput, FlowRequestInput } from "../schemas/queue-flow.ts";
import type { LogsInput, LogsOutput, ProgressOutput } from "../schemas/queue-progress.ts";
import type { ScheduleInfo, SchedulePage, ScheduleRequestInput } from "../schemas/queue-schedule.ts";
import type {
  Deleted,
  IncrementResult,
  ListPage,
  PreconditionInput,
  PutResult,
  ReadInput,
  ReadResult,
  StateEntry,
  TxnRequestInput,
  TxnResult,
} from "../schemas/state.ts";
import type { MintedTokenValue, MintTokenInput, TokenListValue } from "../schemas/tokens.ts";
import type { CallTable } from "./transport.ts";

/** The locks calls: the route and arguments of each (./transport.ts runs them). */
export const LOCK_CALLS = {
  acquire: { http: "POST /v1/locks/{name}/acquire", args: ["name", "body"], idempotent: true },
  release: { http: "POST /v1/locks/{name}/release", args: ["name", "body"], idempotent: true },
  extend: { http: "POST /v1/locks/{name}/extend", args: ["name", "body"], idempotent: true },
  info: { http: "GET /v1/locks/{name}", args: ["name"] },
} as const satisfies CallTable;

/** The locks operations, as both transports offer them. */
export interface LockCalls {
  /** Acquire a lock or a semaphore permit: `POST /v1/locks/{name}/acquire`. */
  acquire(
    name: string,
    body: {
      owner: string;
      ttlMs?: undefined | number;
      waitMs?: undefined | number;
      permits?: undefined | number;
    },
  ): Promise<Result<LockGrant>>;
  /** Release a grant: `POST /v1/locks/{name}/release`. */
  release(name: string, body: ReleaseInput): Promise<Result<{ released: true }>>;
  /** Extend a grant's expiry to now + ttlMs: `POST /v1/locks/{name}/extend`. */
  extend(name: string, body: ExtendInput): Promise<Result<{ expiresAt: number }>>;
  /** Holders and waiters of a lock: `GET /v1/locks/{name}`. */
  info(name: string): Promise<Result<LockInfo>>;
}

/** The breakers calls: the route and arguments of each (./transport.ts runs them). */
export const BREAKER_CALLS = {
  configure: { http: "PUT /v1/breakers/{name}", args: ["name", "body"] },
  acquire: { http: "POST /v1/breakers/{name}/acquire", args: ["name"] },
  record: { http: "POST /v1/breakers/{name}/record", args: ["name", "body"] },
  recordBatch: { http: "POST /v1/breakers/{name}/record-batch", args: ["name", "body"] },
  info: { http: "GET /v1/breakers/{name}", args: ["name"] },
} as const satisfies CallTable;

/** The breakers operations, as both transports offer them. */
export interface BreakerCalls {
  /** Configure a shared circuit breaker: `PUT /v1/breakers/{name}`. */
  configure(
    name: string,
    body?: {
      consecutiveFailures?: undefined | number;
      failureRate?: undefined | number;
      minimumCalls?: undefined | number;
      windowMs?: undefined | number;
      slowCallMs?: undefined | number;
      openMs?: undefined | number;
      halfOpenProbes?: undefined | number;
    },
  ): Promise<Result<BreakerSettings>>;
  /** Ask whether a call may go: `POST /v1/breakers/{name}/acquire`. */
  acquire(name: string): Promise<Result<BreakerAcquired>>;
  /** Report a call's outcome: `POST /v1/breakers/{name}/record`. */
  record(name: string, body: BreakerOutcome): Promise<Result<BreakerRecorded>>;
  /** Report up to 1000 outcomes at once, oldest first: `POST /v1/breakers/{name}/record-batch`. */
  recordBatch(name: string, body: { outcomes: BreakerOutcome[] }): Promise<Result<BreakerRecorded>>;
  /** State, configuration and counters of a breaker: `GET /v1/breakers/{name}`. */
  info(name: string): Promise<Result<BreakerInfo>>;
}

/** The topics calls: the route and arguments of each (./transport.ts runs them). */
export const BUS_CALLS = {
  publish: { http: "POST /v1/topics/{topic}/events", args: ["topic", "body"] },
  createSubscription: { http: "POST /v1/topics/{topic}/subscriptions", args: ["topic", "body"] },
  listSubscriptions: { http: "GET /v1/topics/{topic}/subscriptions", args: ["topic"] },
  deleteSubscription: { http: "DELETE /v1/topics/{topic}/subscriptions/{id}", args: ["topic", "id"] },
  resumeSubscription: { http: "POST /v1/topics/{topic}/subscriptions/{id}/resume", args: ["topic", "id"] },
  pauseSubscription: { http: "POST /v1/topics/{topic}/subscriptions/{id}/pause", args: ["topic", "id"] },
  deadLetters: {
    http: "GET /v1/topics/{topic}/subscriptions/{id}/dead-letters",
    args: ["topic", "id", "query"],
  },
  redriveDeadLetters: {
    http: "POST /v1/topics/{topic}/subscriptions/{id}/dead-letters/redrive",
    args: ["topic", "id", "body"],
  },
  events: { http: "GET /v1/topics/{topic}/events", args: ["topic", "query"] },
  stats: { http: "GET /v1/topics/{topic}/stats", args: ["topic"] },
  configure: { http: "PUT /v1/topics/{topic}/config", args: ["topic", "body"] },
} as const satisfies CallTable;

/** The topics operations, as both transports offer them. */
export interface BusCalls {
  /** Publish one event or a batch of up to 500: `POST /v1/topics/{topic}/events`. */
  publish(
    topic: string,
    body: {
      type?: undefined | string;
      events?:
        | undefined
        | {
            type: string;
            data?: unknown;
            priority?: undefined | "low" | "normal" | "high" | "critical";
            critical?: undefined | boolean;
          }[];
      data?: unknown;
      priority?: undefined | "low" | "normal" | "high" | "critical";
      critical?: undefined | boolean;
    },
  ): Promise<Result<PublishResult>>;
  /** Add a webhook subscription: `POST /v1/topics/{topic}/subscriptions`. */
  createSubscription(
    topic: string,
    body: {
      url?: undefined | string;
      redis?: undefined | RedisTargetValue;
      filter?: undefined | string[];
      maxAttempts?: undefined | number;
      retry?: undefined | { initialDelayMs?: undefined | number; maxDelayMs?: undefined | number };
      timeoutMs?: undefined | number;
    },
  ): Promise<Result<{ id: string; secret?: undefined | string }>>;
  /** List webhook subscriptions (without secrets): `GET /v1/topics/{topic}/subscriptions`. */
  listSubscriptions(topic: string): Promise<Result<SubscriptionInfo[]>>;
  /**
   * Remove a subscription, its pending deliveries and dead letters: `DELETE
   * /v1/topics/{topic}/subscriptions/{id}`.
   */
  deleteSubscription(topic: string, id: string): Promise<Result<Deleted>>;
  /** Resume a paused subscription: `POST /v1/topics/{topic}/subscriptions/{id}/resume`. */
  resumeSubscription(topic: string, id: string): Promise<Result<SubscriptionInfo>>;
  /** Pause a subscription by hand: `POST /v1/topics/{topic}/subscriptions/{id}/pause`. */
  pauseSubscription(topic: string, id: string): Promise<Result<SubscriptionInfo>>;
  /**
   * Events a subscription gave up on, oldest first: `GET
   * /v1/topics/{topic}/subscriptions/{id}/dead-letters`.
   */
  deadLetters(
    topic: string,
    id: string,
    query?: { limit?: undefined | number; cursor?: undefined | string },
  ): Promise<Result<DeadLetterPage>>;
  /**
   * Deliver dead letters again (the listed seqs, or all), with their attempts reset: `POST
   * /v1/topics/{topic}/subscriptions/{id}/dead-letters/redrive`.
   */
  redriveDeadLetters(
    topic: string,
    id: string,
    body?: { seqs?: undefined | number[] },
  ): Promise<Result<{ redriven: number }>>;
  /** Read retained events from a seq on (pull consumers): `GET /v1/topics/{topic}/events`. */
  events(
    topic: string,
    query?: {
      fromSeq?: undefined | number;
      limit?: undefined | number;
      filter?: undefined | string | string[];
    },
  ): Promise<Result<EventsPageValue>>;
  /** Counters of the topic and of each subscription: `GET /v1/topics/{topic}/stats`. */
  stats(topic: string): Promise<Result<TopicStatsValue>>;
  /**
   * Change the topic's limits (fields left out keep their value): `PUT /v1/topics/{topic}/config`.
   */
  configure(topic: string, body?: TopicConfigPatchValue): Promise<Result<TopicConfigValue>>;
}

/** The state calls: the route and arguments of each (./transport.ts runs them). */
export const STATE_CALLS = {
  list: { http: "GET /v1/state/{namespace}", args: ["namespace", "query"] },
  txn: { http: "POST /v1/state/{namespace}/txn", args: ["namespace", "body"] },
  read: { http: "POST /v1/state/{namespace}/read", args: ["namespace", "body"] },
  increment: { http: "POST /v1/state/{namespace}/{key}/increment", args: ["namespace", "key", "body"] },
  get: { http: "GET /v1/state/{namespace}/{key}", args: ["namespace", "key"] },
  put: { http: "PUT /v1/state/{namespace}/{key}", args: ["namespace", "key", "body", "headers"] },
  delete: { http: "DELETE /v1/state/{namespace}/{key}", args: ["namespace", "key", "headers"] },
} as const satisfies CallTable;

/** The state operations, as both transports offer them. */
export interface StateCalls {
  /** List keys by prefix: `GET /v1/state/{namespace}`. */
  list(
    namespace: string,
    query?: { prefix?: undefined | string; limit?: undefined | number; cursor?: undefined | string },
  ): Promise<Result<ListPage>>;
  /** Multi-key transaction (etcd-style): `POST /v1/state/{namespace}/txn`. */
  txn(namespace: string, body?: TxnRequestInput): Promise<Result<TxnResult>>;
  /** Read up to 128 keys at one version: `POST /v1/state/{namespace}/read`. */
  read(namespace: string, body: ReadInput): Promise<Result<ReadResult>>;
  /** Add to a number atomically: `POST /v1/state/{namespace}/{key}/increment`. */
  increment(
    namespace: string,
    key: string,
    body?: { by?: undefined | number; ttlMs?: undefined | number },
  ): Promise<Result<IncrementResult>>;
  /** Read a key: `GET /v1/state/{namespace}/{key}`. */
  get(namespace: string, key: string): Promise<Result<StateEntry>>;
  /** Write a key: `PUT /v1/state/{namespace}/{key}`. */
  put(
    namespace: string,
    key: string,
    body: { value: unknown; ttlMs?: undefined | number },
    headers?: PreconditionInput,
  ): Promise<Result<PutResult>>;
  /** Delete a key: `DELETE /v1/state/{namespace}/{key}`. */
  delete(namespace: string, key: string, headers?: PreconditionInput): Promise<Result<Deleted>>;
}

/** The mirrors calls: the route and arguments of each (./transport.ts runs them). */
export const MIRROR_CALLS = {
  put: { http: "PUT /v1/mirrors/state/{namespace}", args: ["namespace", "body"] },
  get: { http: "GET /v1/mirrors/state/{namespace}", args: ["namespace"] },
  delete: { http: "DELETE /v1/mirrors/state/{namespace}", args: ["namespace"] },
} as const satisfies CallTable;

/** The mirrors operations, as both transports offer them. */
export interface MirrorCalls {
  /** Mirror a namespace into Redis: `PUT /v1/mirrors/state/{namespace}`. */
  put(namespace: string, body: { redis: { prefix: string } }): Promise<Result<MirrorStatus>>;
  /** A mirror's status: `GET /v1/mirrors/state/{namespace}`. */
  get(namespace: string): Promise<Result<MirrorStatus>>;
  /** Stop mirroring a namespace: `DELETE /v1/mirrors/state/{namespace}`. */
  delete(namespace: string): Promise<Result<Deleted>>;
}

/** The queues calls: the route and arguments of each (./transport.ts runs them). */
export const QUEUE_CALLS = {
  enqueue: { http: "POST /v1/queues/{queue}/tasks", args: ["queue", "body"] },
  flow: { http: "POST /v1/queues/{queue}/flows", args: ["queue", "body"] },
  purge: { http: "DELETE /v1/queues/{queue}/tasks", args: ["queue", "query"] },
  tasks: { http: "GET /v1/queues/{queue}/tasks", args: ["queue", "query"] },
  lease: { http: "POST /v1/queues/{queue}/lease", args: ["queue", "body"] },
  ack: { http: "POST /v1/queues/{queue}/tasks/{id}/ack", args: ["queue", "id", "body"] },
  nack: { http: "POST /v1/queues/{queue}/tasks/{id}/nack", args: ["queue", "id", "body"] },
  extend: { http: "POST /v1/queues/{queue}/tasks/{id}/extend", args: ["queue", "id", "body"] },
  progress: { http: "POST /v1/queues/{queue}/tasks/{id}/progress", args: ["queue", "id", "body"] },
  logs: { http: "POST /v1/queues/{queue}/tasks/{id}/logs", args: ["queue", "id", "body"] },
  deleteTask: { http: "DELETE /v1/queues/{queue}/tasks/{id}", args: ["queue", "id"] },
  promote: { http: "POST /v1/queues/{queue}/tasks/{id}/promote", args: ["queue", "id"] },
  ackBatch: { http: "POST /v1/queues/{queue}/ack", args: ["queue", "body"] },
  task: { http: "GET /v1/queues/{queue}/tasks/{id}", args: ["queue", "id", "query"] },
  run: { http: "POST /v1/queues/{queue}/run", args: ["queue", "body", "query"] },
  stats: { http: "GET /v1/queues/{queue}/stats", args: ["queue"] },
  dead: { http: "GET /v1/queues/{queue}/dead", args: ["queue", "query"] },
  redrive: { http: "POST /v1/queues/{queue}/dead/redrive", args: ["queue", "body"] },
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

/** The queues operations, as both transports offer them. */
export interface QueueCalls {
  /** Enqueue one task or a batch of up to 1000: `POST /v1/queues/{queue}/tasks`. */
  enqueue(queue: string, body: TaskRequest | { tasks: TaskRequest[] }): Promise<Result<{ ids: string[] }>>;
  /**
   * Enqueue a flow, or a batch of flows: a parent task that becomes ready once its children (here
   * or in other queues) are done: `POST /v1/queues/{queue}/flows`.
   */
  flow(
    queue: string,
    body: FlowRequestInput | { flows: FlowRequestInput[] },
  ): Promise<Result<FlowCreatedOutput | { flows: FlowCreatedOutput[] }>>;
  /**
   * Delete completed or dead tasks finished at least olderThanMs ago: `DELETE
   * /v1/queues/{queue}/tasks`.
   */
  purge(queue: string, query: PurgeRequest): Promise<Result<{ purged: number }>>;
  /**
   * A page of the tasks in one state, or the live task holding a dedup key: `GET
   * /v1/queues/{queue}/tasks`.
   */
  tasks(queue: string, query: TaskListRequest): Promise<Result<{ tasks: TaskInfo[]; cursor: null | string }>>;
  /**
   * Lease up to max tasks, highest priority first, oldest first within a priority: `POST
   * /v1/queues/{queue}/lease`.
   */
  lease(queue: string, body?: LeaseRequestInput): Promise<Result<{ tasks: LeasedTask[] }>>;
  /** Complete a leased task: `POST /v1/queues/{queue}/tasks/{id}/ack`. */
  ack(
    queue: string,
    id: string,
    body: { leaseId: string; result?: unknown },
  ): Promise<Result<{ id: string; state: "completed" }>>;
  /**
   * Give a leased task back: retry after a backoff, or dead-letter it: `POST
   * /v1/queues/{queue}/tasks/{id}/nack`.
   */
  nack(queue: string, id: string, body: NackRequestInput): Promise<Result<NackOutput>>;
  /** Extend a lease to now + visibilityMs: `POST /v1/queues/{queue}/tasks/{id}/extend`. */
  extend(
    queue: string,
    id: string,
    body: { leaseId: string; visibilityMs: number },
  ): Promise<Result<{ leaseExpiresAt: number }>>;
  /**
   * Report a leased task's progress (any JSON, at most 4 KiB): `POST
   * /v1/queues/{queue}/tasks/{id}/progress`.
   */
  progress(
    queue: string,
    id: string,
    body: { leaseId: string; progress: unknown },
  ): Promise<Result<ProgressOutput>>;
  /** Append up to 100 log lines to a leased task: `POST /v1/queues/{queue}/tasks/{id}/logs`. */
  logs(queue: string, id: string, body: LogsInput): Promise<Result<LogsOutput>>;
  /**
   * Delete a task no consumer holds (ready or delayed): `DELETE /v1/queues/{queue}/tasks/{id}`.
   */
  deleteTask(queue: string, id: string): Promise<Result<{ id: string; deleted: true }>>;
  /** Make a delayed task ready now: `POST /v1/queues/{queue}/tasks/{id}/promote`. */
  promote(queue: string, id: string): Promise<Result<{ id: string; state: "ready" }>>;
  /** Complete up to 1000 leased tasks in one transaction: `POST /v1/queues/{queue}/ack`. */
  ackBatch(
    queue: string,
    body: { acks: { id: string; leaseId: string; result?: unknown }[] },
  ): Promise<Result<AckBatchOutput>>;
  /**
   * A task's state, attempts, last error and result; with waitMs, once it has ended: `GET
   * /v1/queues/{queue}/tasks/{id}`.
   */
  task(queue: string, id: string, query?: TaskQueryRequest): Promise<Result<TaskInfo>>;
  /** Enqueue one task and wait for its end: `POST /v1/queues/{queue}/run`. */
  run(queue: string, body: TaskRequest, query?: TaskQueryRequest): Promise<Result<TaskInfo>>;
  /**
   * Counts per state, running totals and the age of the oldest ready task: `GET
   * /v1/queues/{queue}/stats`.
   */
  stats(queue: string): Promise<Result<QueueStats>>;
  /** A page of the dead-letter queue, oldest first: `GET /v1/queues/{queue}/dead`. */
  dead(
    queue: string,
    query?: { limit?: undefined | number; cursor?: undefined | string },
  ): Promise<Result<{ tasks: TaskInfo[]; cursor: null | string }>>;
  /**
   * Put dead tasks (the listed ids, or all) back in the queue with their attempts reset: `POST
   * /v1/queues/{queue}/dead/redrive`.
   */
  redrive(queue: string, body?: RedriveInput): Promise<Result<{ redriven: number }>>;
  /**
   * Pause the queue: leases and pushes hand out nothing until it is resumed: `POST
   * /v1/queues/{queue}/pause`.
   */
  pause(queue: string): Promise<Result<{ paused: boolean }>>;
  /** Resume a paused queue: `POST /v1/queues/{queue}/resume`. */
  resume(queue: string): Promise<Result<{ paused: boolean }>>;
  /**
   * Delete the queue: every task in every state, its counters and the paused flag: `DELETE
   * /v1/queues/{queue}`.
   */
  deleteQueue(queue: string): Promise<Result<Deleted>>;
  /**
   * Set the queue's lease limits: a rate (leases per period) and a concurrency cap: `PUT
   * /v1/queues/{queue}/config`.
   */
  setConfig(queue: string, body?: QueueConfigRequestInput): Promise<Result<QueueConfig>>;
  /** The queue's lease limits: `GET /v1/queues/{queue}/config`. */
  config(queue: string): Promise<Result<QueueConfig>>;
  /**
   * Create or replace a schedule: a task enqueued on a cron expression or a fixed interval: `PUT
   * /v1/queues/{queue}/schedules/{name}`.
   */
  putSchedule(queue: string, name: string, body: ScheduleRequestInput): Promise<Result<ScheduleInfo>>;
  /** A page of the queue's schedules in name order: `GET /v1/queues/{queue}/schedules`. */
  schedules(
    queue: string,
    query?: { limit?: undefined | number; cursor?: undefined | string },
  ): Promise<Result<SchedulePage>>;
  /** A schedule with its next run times: `GET /v1/queues/{queue}/schedules/{name}`. */
  schedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  /**
   * Pause a schedule: no runs until it is resumed: `POST
   * /v1/queues/{queue}/schedules/{name}/pause`.
   */
  pauseSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  /**
   * Resume a schedule: it runs next at its first time after now: `POST
   * /v1/queues/{queue}/schedules/{name}/resume`.
   */
  resumeSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>>;
  /**
   * Delete a schedule (the tasks its runs enqueued stay): `DELETE
   * /v1/queues/{queue}/schedules/{name}`.
   */
  deleteSchedule(queue: string, name: string): Promise<Result<Deleted>>;
}

/** The tokens calls: the route and arguments of each (./transport.ts runs them). */
export const TOKEN_CALLS = {
  mint: { http: "POST /v1/tokens", args: ["body"] },
  list: { http: "GET /v1/tokens", args: ["query"] },
  revoke: { http: "DELETE /v1/tokens/{id}", args: ["id"] },
} as const satisfies CallTable;

/** The tokens operations, over HTTP only. */
export interface TokenCalls {
  /** Mint a scoped, expiring token: `POST /v1/tokens`. */
  mint(body: MintTokenInput): Promise<Result<MintedTokenValue>>;
  /** List live scoped tokens (never their text): `GET /v1/tokens`. */
  list(query?: { limit?: undefined | number; cursor?: undefined | string }): Promise<Result<TokenListValue>>;
  /** Revoke a scoped token (refused everywhere within 10 s): `DELETE /v1/tokens/{id}`. */
  revoke(id: string): Promise<Result<{ revoked: true }>>;
}
