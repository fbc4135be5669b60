/** `/v1/queues/{queue}`: every task queue operation, declared once (see workers/declare/table.ts). */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Env } from "../../shared/env.ts";
import { ApiError, ok } from "../../shared/errors.ts";
import type { JsonText } from "../../shared/json-text.ts";
import {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonResponse,
  NameParam,
} from "../../shared/schemas/common.ts";
import {
  AckBatchRequest,
  AckBatchResult,
  Acked,
  AckRequest,
  DeadPage,
  DeadQuery,
  Enqueued,
  EnqueueRequest,
  Extended,
  ExtendRequest,
  enqueueSchemaFor,
  Leased,
  LeaseRequest,
  Nacked,
  NackRequest,
  Promoted,
  PromoteRequest,
  Purged,
  PurgeQuery,
  QueueStats,
  Redriven,
  RedriveRequest,
  TaskInfo,
  TaskListQuery,
  TaskPage,
} from "../../shared/schemas/queue.ts";
import { QueueConfig, QueueConfigRequest } from "../../shared/schemas/queue-config.ts";
import { childQueues, FlowCreated, type FlowInput, FlowRequest } from "../../shared/schemas/queue-flow.ts";
import {
  LogsAppended,
  LogsRequest,
  ProgressReported,
  ProgressRequest,
} from "../../shared/schemas/queue-progress.ts";
import {
  ScheduleDeleted,
  ScheduleInfo,
  ScheduleListQuery,
  ScheduleName,
  SchedulePage,
  ScheduleRequest,
} from "../../shared/schemas/queue-schedule.ts";
import { ConsumeQuery, EmptyBody, Paused, QueueDeleted } from "../../shared/schemas/queue-stream.ts";
import { forgetName } from "../catalog/note.ts";
import { declare, declareUpgrade } from "../declare/table.ts";
import { allows, type Principal } from "../http/access.ts";
import type { AppEnv } from "../http/router.ts";
import { requireWebSocketUpgrade } from "../http/upgrade.ts";

const QueueName = NameParam("Queue name").openapi({ param: { name: "queue", in: "path" } });
const queueParams = z.object({ queue: QueueName });
const taskParams = z.object({
  queue: QueueName,
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, description: "Task id", example: "42" }),
});
const scheduleParams = z.object({ queue: QueueName, name: ScheduleName });
const tags = ["Task queue"];
const queueObject = (env: Env, queue: string) => env.QUEUES.getByName(queue);

const leaseConflict = errorResponse("`lease_mismatch`: the lease expired or another consumer holds the task");
const unknownTask = errorResponse("`not_found`: no such task");
/** The refusals of a report by a task's lease holder (progress, logs): `what` is too large a field. */
const reportErrors = (what: string) => ({
  404: unknownTask,
  409: leaseConflict,
  ...commonErrors,
  413: errorResponse(`${what}, or a body over 1 MiB`),
});

const unknownSchedule = errorResponse("`not_found`: no such schedule");
const scheduleTags = ["Task queue: schedules"];

/** An answer that is the object's JSON text as a whole (`jsonText` in workers/declare/table.ts). */
const sentAsIs = <T>(text: JsonText<T>) => ({ text });

/** Deletes the queue's object state, then its name from the catalog. */
async function deleteQueue(env: Env, queue: string) {
  const deleted = await queueObject(env, queue).deleteQueue();
  await forgetName(env, "queues", queue);
  return ok(deleted);
}

/**
 * Enqueues a flow. Over HTTP the token must also allow `write` on each child's queue (over RPC,
 * `guardRpc` has checked them).
 */
async function enqueueFlow(env: Env, queue: string, flow: FlowInput, principal: Principal | undefined) {
  if (principal) {
    for (const other of childQueues(flow)) {
      if (!allows(principal, "queues", "write", other)) {
        throw new ApiError("forbidden", `this token's scopes do not allow write on queues:${other}`, {
          queue: other,
        });
      }
    }
  }
  return queueObject(env, queue).flow(flow);
}

/** Hands a WebSocket upgrade to the queue's object, which holds the consumer sockets. */
function consume(c: Context<AppEnv>, queue: string, query: z.output<typeof ConsumeQuery>): Promise<Response> {
  requireWebSocketUpgrade(c);
  const target = new URL("https://queue.internal/consume");
  target.searchParams.set("prefetch", String(query.prefetch));
  target.searchParams.set("visibilityMs", String(query.visibilityMs));
  return queueObject(c.env, queue).fetch(new Request(target, { headers: { upgrade: "websocket" } }));
}

/** The queue operations: routes at `/v1/queues`, methods of `env.SWITCHYARD.queues()`. */
export const queueOperations = {
  enqueue: declare({
    access: { capability: "queues", action: "write", catalog: true },
    route: {
      operationId: "enqueueTasks",
      method: "post",
      path: "/{queue}/tasks",
      tags,
      summary: "Enqueue one task or a batch of up to 1000",
      description:
        "A live task (ready, delayed or leased) with the same `dedupKey` answers with its id instead of a new task. A batch is one transaction.",
      request: { params: queueParams, body: jsonBody(EnqueueRequest) },
      responses: {
        201: jsonResponse(Enqueued, "The ids, in the order of the tasks"),
        ...commonErrors,
        413: errorResponse("A payload over 256 KiB (`details.field` names it), or a body over 1 MiB"),
      },
    },
    rpc: ["queue", "body"],
    bodySchemaFor: enqueueSchemaFor,
    call: (env, { params, body }) => queueObject(env, params.queue).enqueue(body),
  }),

  flow: declare({
    access: { capability: "queues", action: "write", catalog: true },
    route: {
      operationId: "enqueueFlow",
      method: "post",
      path: "/{queue}/flows",
      tags: ["Task queue: flows"],
      summary:
        "Enqueue a flow: a parent task that becomes ready once its children (here or in other queues) are done",
      description:
        "The parent waits in state `waiting` (never leased) until every child has ended; then it becomes ready exactly once and its lease and task info carry `childResults` (each child's queue, id, state and result, up to 1 MiB of results). A dead child fails the parent (`onChildFailure: fail`, its `lastError` names the child) or counts as done without a result (`ignore`). Children nest (up to 8 levels, 1,000 tasks in all) and may live in other queues (`queue`): the token needs `write` on each. A live task holding the parent's `dedupKey` answers with its id (`deduplicated`). See docs/queue.md.",
      request: { params: queueParams, body: jsonBody(FlowRequest) },
      responses: {
        201: jsonResponse(FlowCreated, "The parent's id and the children's ids, in the order given"),
        ...commonErrors,
        403: errorResponse(
          "The token may not write to this queue or to a child's queue, or a foreign Origin",
        ),
        413: errorResponse("A payload over 256 KiB (`details.field` names it), or a body over 1 MiB"),
      },
    },
    rpc: ["queue", "body"],
    call: (env, { params, body }, { principal }) => enqueueFlow(env, params.queue, body, principal),
  }),

  purge: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "purgeTasks",
      method: "delete",
      path: "/{queue}/tasks",
      tags,
      summary: "Delete completed or dead tasks finished at least olderThanMs ago",
      request: { params: queueParams, query: PurgeQuery },
      responses: { 200: jsonResponse(Purged, "How many were deleted"), ...commonErrors },
    },
    rpc: ["queue", "query"],
    call: (env, { params, query }) => queueObject(env, params.queue).purge(query),
  }),

  tasks: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "listTasks",
      method: "get",
      path: "/{queue}/tasks",
      tags,
      summary: "A page of the tasks in one state, or the live task holding a dedup key",
      description:
        "`ready` tasks come in lease order (highest priority first, oldest first within one); the other states in the order the tasks were enqueued, oldest first. A page stops at `limit` tasks or 8 MiB of payload, result and error text, whichever comes first (always at least one task); `cursor` says where to go on.",
      request: { params: queueParams, query: TaskListQuery },
      responses: {
        200: jsonResponse(TaskPage, "Tasks and the next cursor (null at the end)"),
        ...commonErrors,
      },
    },
    rpc: ["queue", "query"],
    call: (env, { params, query }) => queueObject(env, params.queue).tasks(query),
    jsonText: sentAsIs,
  }),

  lease: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "leaseTasks",
      method: "post",
      path: "/{queue}/lease",
      tags,
      summary: "Lease up to max tasks, highest priority first, oldest first within a priority",
      description:
        "With `waitMs`, a long poll: answered the moment a task becomes ready (enqueue, end of a delay, nack, lease expiry), or with an empty list after `waitMs`.",
      request: { params: queueParams, body: jsonBody(LeaseRequest) },
      responses: { 200: jsonResponse(Leased, "The leased tasks; empty when none"), ...commonErrors },
    },
    rpc: ["queue", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).lease(body),
    jsonText: sentAsIs,
  }),

  ack: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "ackTask",
      method: "post",
      path: "/{queue}/tasks/{id}/ack",
      tags,
      summary: "Complete a leased task",
      request: { params: taskParams, body: jsonBody(AckRequest) },
      responses: {
        200: jsonResponse(Acked, "Completed"),
        404: unknownTask,
        409: leaseConflict,
        ...commonErrors,
      },
    },
    rpc: ["queue", "id", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).ack(params.id, body),
  }),

  nack: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "nackTask",
      method: "post",
      path: "/{queue}/tasks/{id}/nack",
      tags,
      summary: "Give a leased task back: retry after a backoff, or dead-letter it",
      description:
        "Retries wait with exponential backoff and jitter (or `delayMs`). When `attempt` has reached `maxAttempts`, or `retry` is false, the task goes to the dead-letter queue.",
      request: { params: taskParams, body: jsonBody(NackRequest) },
      responses: {
        200: jsonResponse(Nacked, "Where the task went"),
        404: unknownTask,
        409: leaseConflict,
        ...commonErrors,
      },
    },
    rpc: ["queue", "id", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).nack(params.id, body),
  }),

  extend: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "extendTaskLease",
      method: "post",
      path: "/{queue}/tasks/{id}/extend",
      tags,
      summary: "Extend a lease to now + visibilityMs",
      request: { params: taskParams, body: jsonBody(ExtendRequest) },
      responses: {
        200: jsonResponse(Extended, "The new expiry"),
        404: unknownTask,
        409: leaseConflict,
        ...commonErrors,
      },
    },
    rpc: ["queue", "id", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).extend(params.id, body),
  }),

  progress: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "reportTaskProgress",
      method: "post",
      path: "/{queue}/tasks/{id}/progress",
      tags,
      summary: "Report a leased task's progress (any JSON, at most 4 KiB)",
      description:
        "Only the live lease holder may. The value replaces the last one and shows in task info (`progress`, `progressAt`); it stays through retries (nack, lease expiry, a closed consumer socket). It does not extend the lease.",
      request: { params: taskParams, body: jsonBody(ProgressRequest) },
      responses: {
        200: jsonResponse(ProgressReported, "Stored"),
        ...reportErrors("`progress` over 4 KiB of JSON text (`details.field` is `progress`)"),
      },
    },
    rpc: ["queue", "id", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).reportProgress(params.id, body),
  }),

  logs: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "appendTaskLogs",
      method: "post",
      path: "/{queue}/tasks/{id}/logs",
      tags,
      summary: "Append up to 100 log lines to a leased task",
      description:
        "Only the live lease holder may. Each line is stored with the attempt that wrote it and the queue's time; a task keeps its newest 100 lines (task info: `logs`, and `logsDropped` for the older ones), through retries. A line over 1 KiB refuses the whole request.",
      request: { params: taskParams, body: jsonBody(LogsRequest) },
      responses: {
        200: jsonResponse(LogsAppended, "Appended"),
        ...reportErrors("A line over 1 KiB of UTF-8 (`details.field` names it, `lines.3`)"),
      },
    },
    rpc: ["queue", "id", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).appendLogs(params.id, body),
  }),

  promote: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "promoteTask",
      method: "post",
      path: "/{queue}/tasks/{id}/promote",
      tags,
      summary: "Make a delayed task ready now",
      description:
        "The task keeps its priority and goes behind the tasks already ready in it. A waiting long poll gets it at once. The body may be absent or `{}`.",
      request: { params: taskParams, body: { ...jsonBody(PromoteRequest), required: false } },
      responses: {
        200: jsonResponse(Promoted, "The task is ready"),
        404: unknownTask,
        409: errorResponse("`conflict`: the task is not delayed (`details.state` says what it is)"),
        ...commonErrors,
      },
    },
    rpc: ["queue", "id"],
    call: (env, { params }) => queueObject(env, params.queue).promote(params.id),
  }),

  ackBatch: declare({
    access: { capability: "queues", action: "consume" },
    route: {
      operationId: "ackTasks",
      method: "post",
      path: "/{queue}/ack",
      tags,
      summary: "Complete up to 1000 leased tasks in one transaction",
      request: { params: queueParams, body: jsonBody(AckBatchRequest) },
      responses: {
        200: jsonResponse(AckBatchResult, "One result per ack: `ok`, or the `code` of its failure"),
        ...commonErrors,
      },
    },
    rpc: ["queue", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).ackBatch(body),
  }),

  task: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "getTask",
      method: "get",
      path: "/{queue}/tasks/{id}",
      tags,
      summary: "A task's state, attempts, last error and result",
      request: { params: taskParams },
      responses: { 200: jsonResponse(TaskInfo, "The task"), 404: unknownTask, ...commonErrors },
    },
    rpc: ["queue", "id"],
    call: (env, { params }) => queueObject(env, params.queue).task(params.id),
    jsonText: sentAsIs,
  }),

  stats: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "getQueueStats",
      method: "get",
      path: "/{queue}/stats",
      tags,
      summary: "Counts per state, running totals and the age of the oldest ready task",
      request: { params: queueParams },
      responses: { 200: jsonResponse(QueueStats, "The stats"), ...commonErrors },
    },
    rpc: ["queue"],
    call: async (env, { params }) => ok(await queueObject(env, params.queue).stats()),
  }),

  dead: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "listDeadTasks",
      method: "get",
      path: "/{queue}/dead",
      tags,
      summary: "A page of the dead-letter queue, oldest first",
      request: { params: queueParams, query: DeadQuery },
      responses: { 200: jsonResponse(DeadPage, "Dead tasks and the next cursor"), ...commonErrors },
    },
    rpc: ["queue", "query"],
    call: (env, { params, query }) => queueObject(env, params.queue).dead(query),
    jsonText: sentAsIs,
  }),

  redrive: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "redriveDeadTasks",
      method: "post",
      path: "/{queue}/dead/redrive",
      tags,
      summary: "Put dead tasks (the listed ids, or all) back in the queue with their attempts reset",
      request: { params: queueParams, body: jsonBody(RedriveRequest) },
      responses: { 200: jsonResponse(Redriven, "How many were redriven"), ...commonErrors },
    },
    rpc: ["queue", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).redrive(body),
  }),

  pause: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "pauseQueue",
      method: "post",
      path: "/{queue}/pause",
      tags,
      summary: "Pause the queue: leases and pushes hand out nothing until it is resumed",
      description:
        "Idempotent; works on a queue never used before. Enqueue still works; long polls keep waiting; `stats` shows `paused`.",
      request: { params: queueParams, body: { ...jsonBody(EmptyBody), required: false } },
      responses: { 200: jsonResponse(Paused, "Paused"), ...commonErrors },
    },
    rpc: ["queue"],
    call: async (env, { params }) => ok(await queueObject(env, params.queue).setPaused(true)),
  }),

  resume: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "resumeQueue",
      method: "post",
      path: "/{queue}/resume",
      tags,
      summary: "Resume a paused queue",
      description: "Idempotent. Waiting long polls and streaming consumers are served at once.",
      request: { params: queueParams, body: { ...jsonBody(EmptyBody), required: false } },
      responses: { 200: jsonResponse(Paused, "Resumed"), ...commonErrors },
    },
    rpc: ["queue"],
    call: async (env, { params }) => ok(await queueObject(env, params.queue).setPaused(false)),
  }),

  deleteQueue: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "deleteQueue",
      method: "delete",
      path: "/{queue}",
      tags,
      summary: "Delete the queue: every task in every state, its counters and the paused flag",
      description:
        "Open long polls answer an empty list and streaming sockets are closed; later calls on the deleted task ids answer 404. Flow children deleted before they ended count as dead children for their parents in other queues (error `queue <queue> was deleted`); the answer comes once those queues have it. The name leaves the catalog; the queue can be used again at once, empty.",
      request: { params: queueParams },
      responses: { 200: jsonResponse(QueueDeleted, "Deleted (also when it held nothing)"), ...commonErrors },
    },
    rpc: ["queue"],
    call: (env, { params }) => deleteQueue(env, params.queue),
  }),

  setConfig: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "setQueueConfig",
      method: "put",
      path: "/{queue}/config",
      tags,
      summary: "Set the queue's lease limits: a rate (leases per period) and a concurrency cap",
      description:
        "At most `rateLimit.leases` tasks are leased in any window of `rateLimit.periodMs`, and at most `maxLeased` are leased at once, HTTP leases and streaming pushes together. A limited lease answers fewer tasks (a long poll waits until the limits allow); streaming pushes are paced. An absent field stays as it is; null removes that limit. `stats` shows the limits and how often they bit.",
      request: { params: queueParams, body: jsonBody(QueueConfigRequest) },
      responses: { 200: jsonResponse(QueueConfig, "The queue's lease limits now"), ...commonErrors },
    },
    rpc: ["queue", "body"],
    call: async (env, { params, body }) => ok(await queueObject(env, params.queue).setLeaseLimits(body)),
  }),

  config: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "getQueueConfig",
      method: "get",
      path: "/{queue}/config",
      tags,
      summary: "The queue's lease limits",
      request: { params: queueParams },
      responses: { 200: jsonResponse(QueueConfig, "The queue's lease limits (null: none)"), ...commonErrors },
    },
    rpc: ["queue"],
    call: async (env, { params }) => ok(await queueObject(env, params.queue).leaseLimits()),
  }),

  putSchedule: declare({
    access: { capability: "queues", action: "admin", catalog: true },
    route: {
      operationId: "createSchedule",
      method: "put",
      path: "/{queue}/schedules/{name}",
      tags: scheduleTags,
      summary: "Create or replace a schedule: a task enqueued on a cron expression or a fixed interval",
      description:
        "Give `cron` (with `timezone`, UTC by default) or `everyMs`, not both. Each run enqueues `task` with the dedup key `schedule:<name>:<run instant>`, so a run is never enqueued twice. Runs more than a minute late (the queue was down) are missed: `skip` drops them, `once` makes one run for all of them; never a burst. A replaced schedule keeps its paused flag and its run history; its next run follows the new definition from now. Daylight-saving transitions behave as croner documents (see docs/queue.md).",
      request: { params: scheduleParams, body: jsonBody(ScheduleRequest) },
      responses: {
        200: jsonResponse(ScheduleInfo, "Replaced"),
        201: jsonResponse(ScheduleInfo, "Created"),
        ...commonErrors,
        413: errorResponse(
          "A payload over 256 KiB (`details.field` is `task.payload`), or a body over 1 MiB",
        ),
      },
    },
    rpc: ["queue", "name", "body"],
    call: (env, { params, body }) => queueObject(env, params.queue).putSchedule(params.name, body),
    jsonText: (put) => ({ text: put.schedule, status: put.created ? 201 : 200 }),
  }),

  schedules: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "listSchedules",
      method: "get",
      path: "/{queue}/schedules",
      tags: scheduleTags,
      summary: "A page of the queue's schedules in name order",
      description:
        "Ascending byte order of the name. A page stops at `limit` schedules or 8 MiB of payload (always at least one); `cursor` says where to go on.",
      request: { params: queueParams, query: ScheduleListQuery },
      responses: {
        200: jsonResponse(SchedulePage, "Schedules and the next cursor (null at the end)"),
        ...commonErrors,
      },
    },
    rpc: ["queue", "query"],
    call: (env, { params, query }) => queueObject(env, params.queue).schedulesPage(query),
    jsonText: sentAsIs,
  }),

  schedule: declare({
    access: { capability: "queues", action: "read" },
    route: {
      operationId: "getSchedule",
      method: "get",
      path: "/{queue}/schedules/{name}",
      tags: scheduleTags,
      summary: "A schedule with its next run times",
      request: { params: scheduleParams },
      responses: { 200: jsonResponse(ScheduleInfo, "The schedule"), 404: unknownSchedule, ...commonErrors },
    },
    rpc: ["queue", "name"],
    call: (env, { params }) => queueObject(env, params.queue).schedule(params.name),
    jsonText: sentAsIs,
  }),

  pauseSchedule: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "pauseSchedule",
      method: "post",
      path: "/{queue}/schedules/{name}/pause",
      tags: scheduleTags,
      summary: "Pause a schedule: no runs until it is resumed",
      description: "Idempotent. The body may be absent or `{}`.",
      request: { params: scheduleParams, body: { ...jsonBody(EmptyBody), required: false } },
      responses: { 200: jsonResponse(ScheduleInfo, "Paused"), 404: unknownSchedule, ...commonErrors },
    },
    rpc: ["queue", "name"],
    call: (env, { params }) => queueObject(env, params.queue).setSchedulePaused(params.name, true),
    jsonText: sentAsIs,
  }),

  resumeSchedule: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "resumeSchedule",
      method: "post",
      path: "/{queue}/schedules/{name}/resume",
      tags: scheduleTags,
      summary: "Resume a schedule: it runs next at its first time after now",
      description:
        "Idempotent. Runs that fell due while it was paused are not made up. The body may be absent or `{}`.",
      request: { params: scheduleParams, body: { ...jsonBody(EmptyBody), required: false } },
      responses: { 200: jsonResponse(ScheduleInfo, "Resumed"), 404: unknownSchedule, ...commonErrors },
    },
    rpc: ["queue", "name"],
    call: (env, { params }) => queueObject(env, params.queue).setSchedulePaused(params.name, false),
    jsonText: sentAsIs,
  }),

  deleteSchedule: declare({
    access: { capability: "queues", action: "admin" },
    route: {
      operationId: "deleteSchedule",
      method: "delete",
      path: "/{queue}/schedules/{name}",
      tags: scheduleTags,
      summary: "Delete a schedule (the tasks its runs enqueued stay)",
      request: { params: scheduleParams },
      responses: { 200: jsonResponse(ScheduleDeleted, "Deleted"), 404: unknownSchedule, ...commonErrors },
    },
    rpc: ["queue", "name"],
    call: (env, { params }) => queueObject(env, params.queue).deleteSchedule(params.name),
  }),

  consume: declareUpgrade({
    access: { capability: "queues", action: "consume", queryToken: true },
    route: {
      operationId: "consumeQueue",
      method: "get",
      path: "/{queue}/consume",
      tags,
      summary: "Consume over a WebSocket: tasks are pushed while the socket has credit",
      description:
        'Send `Upgrade: websocket`. The server pushes `{"type": "tasks", "tasks": [LeasedTask]}` while the socket holds fewer than `prefetch` unsettled tasks. Send `{"type": "ack", "acks": [{"id", "leaseId", "result"?}]}`, `{"type": "nack", "id", "leaseId", "error"?, "retry"?, "delayMs"?}` and `{"type": "extend", "id", "leaseId", "visibilityMs"}`, `{"type": "progress", "id", "leaseId", "progress"}` and `{"type": "log", "id", "leaseId", "lines"}`; each is answered in order with `acked` (`results`), `nacked` (`id`, `state`, `nextAttemptAt`?), `extended` (`id`, `leaseExpiresAt`), `progressed` (`id`, `progressAt`), `logged` (`id`, `appended`, `kept`, `dropped`) or `{"type": "error", "id"?, "error"}`. When the socket closes its unsettled tasks return to ready at once. More than 10 bad messages close the socket with 1008. See docs/queue.md.',
      request: { params: queueParams, query: ConsumeQuery },
      responses: {
        101: { description: "Switching protocols to a WebSocket" },
        400: errorResponse("Not a WebSocket upgrade, or a bad prefetch or visibilityMs"),
        401: commonErrors[401],
        403: errorResponse("A token whose scopes do not allow consume on this queue, or a foreign Origin"),
      },
    },
    upgrade: (c, { params, query }) => consume(c, params.queue, query),
  }),
};
