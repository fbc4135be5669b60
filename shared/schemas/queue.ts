/** Request and response schemas of `/v1/queues/{queue}`. */
import { z } from "@hono/zod-openapi";
import { PRIORITIES, TASK_STATES } from "../../durable-objects/logic/queue-rules.ts";
import { int, nextCursor, queryCursor, queryIntOr, type Sent } from "./common.ts";

/** Longest delay a task or a retry may ask for: 30 days. */
export const MAX_DELAY_MS = 30 * 24 * 3_600_000;
/** Most tasks per batch enqueue, lease or ack. */
export const MAX_BATCH = 1000;

/** A value JSON can carry (interfaces keep the recursive type shallow for the type checker). */
export type JsonValue = string | number | boolean | null | JsonArray | JsonObject;
export interface JsonArray extends Array<JsonValue> {}
export interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Any JSON value; `undefined` (possible over RPC) is refused. Declared as `unknown` refined, since
 * the OpenAPI generator cannot render zod's recursive `z.json()`; typed as {@link JsonValue}.
 */
export const Json = z
  .unknown()
  .refine((v) => v !== undefined, "required")
  .openapi({ description: "Any JSON value" }) as unknown as z.ZodType<JsonValue>;

const TaskId = z.string().min(1).max(64).openapi({ example: "42", description: "Task id, unique per queue" });
export const LeaseId = z
  .string()
  .min(1)
  .max(128)
  .openapi({ example: "8f14e45f-ceea-467f-a0e6-4f2d1e1a1c9b", description: "The lease a consumer holds" });
const Priority = z.enum(PRIORITIES).openapi({ description: "low < normal < high < critical" });
export const Instant = z.number().int();
const Visibility = int(1_000, 43_200_000);

export const TaskInput = z
  .strictObject({
    payload: Json,
    priority: Priority.default("normal"),
    delayMs: int(0, MAX_DELAY_MS).default(0),
    maxAttempts: int(1, 100).default(5),
    dedupKey: z.string().min(1).max(512).optional().openapi({
      description: "While a task with this key is live, enqueueing it again returns that task's id",
    }),
  })
  .openapi("TaskInput");

export const EnqueueBatch = z
  .strictObject({ tasks: z.array(TaskInput).min(1).max(MAX_BATCH) })
  .openapi("EnqueueBatch");

/** One task, or `{"tasks": [...]}`; see {@link enqueueSchemaFor} for validation. */
export const EnqueueRequest = z.union([EnqueueBatch, TaskInput]).openapi("EnqueueRequest");

/**
 * The branch of {@link EnqueueRequest} a body means: a batch when it has `tasks`. Validating
 * against that branch alone names the offending field, where the union would only say "invalid".
 */
export function enqueueSchemaFor(body: unknown): typeof EnqueueBatch | typeof TaskInput {
  return typeof body === "object" && body !== null && "tasks" in body ? EnqueueBatch : TaskInput;
}

export const Enqueued = z.object({ ids: z.array(z.string()) }).openapi("Enqueued");

/** The longest a request may wait: a lease's long poll, or for a task to end. */
export const MAX_WAIT_MS = 20_000;

export const LeaseRequest = z
  .strictObject({
    max: int(1, MAX_BATCH).default(1),
    visibilityMs: Visibility.default(30_000),
    waitMs: int(0, MAX_WAIT_MS).default(0),
  })
  .openapi("LeaseRequest");

/** One child's end as a flow parent's lease and task info carry it (`childResults`). */
export const ChildResult = z
  .object({
    queue: z.string(),
    id: z.string(),
    state: z.enum(["completed", "dead"]),
    result: Json.optional().openapi({ description: "The child's ack result, when it gave one" }),
    resultOmitted: z.boolean().optional().openapi({
      description: "The results passed 1 MiB for this parent: read this one from the child task",
    }),
    error: z.string().optional().openapi({ description: "A dead child's last error" }),
  })
  .openapi("ChildResult");

const ChildResults = z.array(ChildResult).optional().openapi({
  description: "A flow parent's children, in order, with their results (see `POST .../flows`)",
});

export const LeasedTask = z
  .object({
    id: z.string(),
    payload: Json,
    priority: Priority,
    attempt: z.number().int().openapi({ description: "1 on the first delivery" }),
    maxAttempts: z.number().int(),
    leaseId: z.string(),
    leaseExpiresAt: Instant,
    enqueuedAt: Instant,
    childResults: ChildResults,
  })
  .openapi("LeasedTask");

export const Leased = z.object({ tasks: z.array(LeasedTask) }).openapi("Leased");

export const AckRequest = z.strictObject({ leaseId: LeaseId, result: Json.optional() }).openapi("AckRequest");
export const Acked = z.object({ id: z.string(), state: z.literal("completed") }).openapi("Acked");

export const NackRequest = z
  .strictObject({
    leaseId: LeaseId,
    error: z.string().optional().openapi({ description: "Kept as `lastError` (first 4096 characters)" }),
    retry: z.boolean().default(true),
    delayMs: int(0, MAX_DELAY_MS).optional().openapi({ description: "Overrides the backoff" }),
  })
  .openapi("NackRequest");

export const Nacked = z
  .object({
    id: z.string(),
    state: z.enum(["delayed", "ready", "dead"]),
    nextAttemptAt: Instant.optional(),
  })
  .openapi("Nacked");

export const ExtendRequest = z
  .strictObject({ leaseId: LeaseId, visibilityMs: Visibility })
  .openapi("LeaseExtendRequest");
export const Extended = z.object({ leaseExpiresAt: Instant }).openapi("LeaseExtended");

export const AckBatchRequest = z
  .strictObject({
    acks: z
      .array(z.strictObject({ id: TaskId, leaseId: LeaseId, result: Json.optional() }))
      .min(1)
      .max(MAX_BATCH),
  })
  .openapi("AckBatchRequest");

export const AckBatchResult = z
  .object({
    results: z.array(
      z.object({
        id: z.string(),
        ok: z.boolean(),
        code: z.enum(["not_found", "lease_mismatch", "payload_too_large"]).optional(),
      }),
    ),
  })
  .openapi("AckBatchResult");

/** One kept log line of a task (see `queue-progress.ts`): the attempt that wrote it, and when. */
export const TaskLogEntry = z
  .object({
    attempt: z.number().int().openapi({ description: "The attempt whose lease holder wrote the line" }),
    at: Instant.openapi({ description: "When the queue stored it (the queue object's clock)" }),
    line: z.string(),
  })
  .openapi("TaskLogEntry");

export const TaskInfo = z
  .object({
    id: z.string(),
    state: z.enum(TASK_STATES),
    priority: Priority,
    attempt: z.number().int(),
    maxAttempts: z.number().int(),
    enqueuedAt: Instant,
    payload: Json,
    dedupKey: z.string().optional(),
    lastError: z.string().optional(),
    result: Json.optional(),
    progress: Json.optional().openapi({ description: "The last progress its lease holder reported" }),
    progressAt: Instant.optional().openapi({ description: "When `progress` was reported" }),
    logs: z
      .array(TaskLogEntry)
      .optional()
      .openapi({ description: "The newest log lines (at most 100), oldest first; absent when none" }),
    logsDropped: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Older lines dropped to keep the newest 100; absent when none" }),
    childResults: ChildResults,
  })
  .openapi("TaskInfo");

const Count = z.number().int();

export const QueueStats = z
  .object({
    ready: z.object({ low: Count, normal: Count, high: Count, critical: Count }),
    delayed: Count,
    leased: Count,
    completed: Count,
    dead: Count,
    waiting: Count.openapi({ description: "Flow parents waiting for their children" }),
    totals: z.object({ enqueued: Count, completed: Count, retried: Count, dead: Count, recovered: Count }),
    oldestReadyAgeMs: Count.openapi({
      description: "How long the longest-ready task has waited; 0 when none",
    }),
    paused: z.boolean().openapi({ description: "Paused: leases and pushes hand out nothing" }),
    rateLimit: z
      .object({ leases: Count, periodMs: Count })
      .optional()
      .openapi({ description: "The rate limit, when one is set (see `PUT .../config`)" }),
    maxLeased: Count.optional().openapi({ description: "The concurrency limit, when one is set" }),
    limited: z
      .object({
        rate: Count.openapi({ description: "Leases and pushes the rate limit cut short" }),
        concurrency: Count.openapi({ description: "Leases and pushes the concurrency limit cut short" }),
      })
      .optional()
      .openapi({ description: "How often the limits bit; present once a limit was set" }),
  })
  .openapi("QueueStats");

/**
 * The paging fields of a queue's list queries: how many (1 to {@link MAX_BATCH}, `defaultLimit` when
 * absent) and the previous page's `cursor`, at most `cursorChars` long.
 */
export const pageQueryFields = (cursorChars: number, defaultLimit = 100) => ({
  limit: queryIntOr(1, MAX_BATCH, defaultLimit),
  cursor: queryCursor(z.string().max(cursorChars)),
});

export const DeadQuery = z.object(pageQueryFields(64));

/** A page of tasks (task lists, dead letters) and where the next one starts. */
export const TaskPage = z.object({ tasks: z.array(TaskInfo), cursor: nextCursor() }).openapi("TaskPage");

/** A page of the dead-letter queue. */
export const DeadPage = TaskPage;

/** `GET /v1/queues/{queue}/tasks`: a state's tasks, or the live task holding a dedup key. */
export const TaskListQuery = z
  .object({
    state: z.enum(TASK_STATES).optional().openapi({
      description:
        "The state to list: `ready` in lease order (highest priority first, oldest first), the others oldest enqueued first. Required unless `dedupKey` is given",
    }),
    ...pageQueryFields(64, 50),
    dedupKey: z.string().min(1).max(512).optional().openapi({
      description: "Lists the live task (ready, delayed, leased or waiting) holding this key, or nothing",
    }),
  })
  .superRefine((query, ctx) => {
    if (query.state === undefined && query.dedupKey === undefined) {
      ctx.addIssue({ code: "custom", path: ["state"], message: "required unless dedupKey is given" });
    }
  });

/** `GET /v1/queues/{queue}/tasks/{id}`: the task now, or once it has ended. */
const WAIT_FOR_END =
  "Wait up to this long for the task to be completed or dead: answered the moment it is, or as it stands when the time is up";

export const TaskQuery = z.object({
  waitMs: queryIntOr(0, MAX_WAIT_MS, 0).openapi({ description: WAIT_FOR_END }),
});

/** `POST /v1/queues/{queue}/run`: how long to wait for the task to end (by default as long as a request may). */
export const RunQuery = z.object({
  waitMs: queryIntOr(0, MAX_WAIT_MS, MAX_WAIT_MS).openapi({ description: WAIT_FOR_END }),
});

export const TaskDeleted = z.object({ id: z.string(), deleted: z.literal(true) }).openapi("TaskDeleted");

export const Promoted = z.object({ id: z.string(), state: z.literal("ready") }).openapi("Promoted");

export const RedriveRequest = z
  .strictObject({
    ids: z
      .array(TaskId)
      .max(MAX_BATCH)
      .optional()
      .openapi({ description: "Dead tasks to redrive; all of them when absent, none when empty" }),
  })
  .openapi("RedriveRequest");

export const Redriven = z.object({ redriven: Count }).openapi("Redriven");

export const PurgeQuery = z.object({
  state: z.enum(["completed", "dead"]),
  olderThanMs: queryIntOr(0, Number.MAX_SAFE_INTEGER, 0),
});

export const Purged = z.object({ purged: Count }).openapi("Purged");

export type TaskInput = z.infer<typeof TaskInput>;
export type EnqueueInput = z.infer<typeof EnqueueRequest>;
export type LeaseInput = z.infer<typeof LeaseRequest>;
export type LeasedTask = z.infer<typeof LeasedTask>;
export type AckInput = z.infer<typeof AckRequest>;
export type NackInput = z.infer<typeof NackRequest>;
export type NackOutput = z.infer<typeof Nacked>;
export type ExtendInput = z.infer<typeof ExtendRequest>;
export type AckBatchInput = z.infer<typeof AckBatchRequest>;
export type AckBatchOutput = z.infer<typeof AckBatchResult>;
export type TaskInfo = z.infer<typeof TaskInfo>;
export type ChildResult = z.infer<typeof ChildResult>;
export type QueueStats = z.infer<typeof QueueStats>;
export type DeadQueryInput = z.infer<typeof DeadQuery>;
export type DeadPage = z.infer<typeof DeadPage>;
export type TaskListInput = z.infer<typeof TaskListQuery>;
export type TaskQueryInput = z.infer<typeof TaskQuery>;
/** Task info's query as a client sends it. */
export type TaskQueryRequest = Sent<typeof TaskQuery>;
export type TaskPage = z.infer<typeof TaskPage>;
export type RedriveInput = z.infer<typeof RedriveRequest>;
export type PurgeInput = z.infer<typeof PurgeQuery>;

/** What callers may send (defaults still optional), for the typed client. */
export type TaskRequest = z.input<typeof TaskInput>;
export type LeaseRequestInput = z.input<typeof LeaseRequest>;
export type NackRequestInput = z.input<typeof NackRequest>;
export type DeadQueryRequest = Sent<typeof DeadQuery>;
export type TaskListRequest = Sent<typeof TaskListQuery>;
export type PurgeRequest = Sent<typeof PurgeQuery>;
