/** `/v1/queues/{queue}`: thin HTTP over the queue object. */
import { z } from "@hono/zod-openapi";
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import type { Env } from "../../shared/env.ts";
import { ApiError, type Result, unwrap } from "../../shared/errors.ts";
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
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";
import { invalidRequest } from "../http/validation.ts";

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

/**
 * Answers 200 with the JSON text the object built around stored payloads: handed on as is, not
 * parsed and serialised again (the route's response schema still describes it).
 */
function jsonText<T>(c: Context, result: Result<JsonText<T>>) {
  return c.body(unwrap(result), 200, { "content-type": "application/json" }) as unknown as TypedResponse<
    JSONParsed<T>,
    200,
    "json"
  >;
}

const leaseConflict = errorResponse("`lease_mismatch`: the lease expired or another consumer holds the task");
const unknownTask = errorResponse("`not_found`: no such task");
/** The refusals of a report by a task's lease holder (progress, logs): `what` is too large a field. */
const reportErrors = (what: string) => ({
  404: unknownTask,
  409: leaseConflict,
  ...commonErrors,
  413: errorResponse(`${what}, or a body over 1 MiB`),
});

const enqueue = operation(
  { capability: "queues", action: "write", catalog: true },
  {
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
);

const purge = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "purgeTasks",
    method: "delete",
    path: "/{queue}/tasks",
    tags,
    summary: "Delete completed or dead tasks finished at least olderThanMs ago",
    request: { params: queueParams, query: PurgeQuery },
    responses: { 200: jsonResponse(Purged, "How many were deleted"), ...commonErrors },
  },
);

const lease = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const ack = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const nack = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const extend = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const reportProgress = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const appendLogs = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const promote = operation(
  { capability: "queues", action: "admin" },
  {
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
);

const listTasks = operation(
  { capability: "queues", action: "read" },
  {
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
);

const ackBatch = operation(
  { capability: "queues", action: "consume" },
  {
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
);

const getTask = operation(
  { capability: "queues", action: "read" },
  {
    operationId: "getTask",
    method: "get",
    path: "/{queue}/tasks/{id}",
    tags,
    summary: "A task's state, attempts, last error and result",
    request: { params: taskParams },
    responses: { 200: jsonResponse(TaskInfo, "The task"), 404: unknownTask, ...commonErrors },
  },
);

const stats = operation(
  { capability: "queues", action: "read" },
  {
    operationId: "getQueueStats",
    method: "get",
    path: "/{queue}/stats",
    tags,
    summary: "Counts per state, running totals and the age of the oldest ready task",
    request: { params: queueParams },
    responses: { 200: jsonResponse(QueueStats, "The stats"), ...commonErrors },
  },
);

const dead = operation(
  { capability: "queues", action: "read" },
  {
    operationId: "listDeadTasks",
    method: "get",
    path: "/{queue}/dead",
    tags,
    summary: "A page of the dead-letter queue, oldest first",
    request: { params: queueParams, query: DeadQuery },
    responses: { 200: jsonResponse(DeadPage, "Dead tasks and the next cursor"), ...commonErrors },
  },
);

const redrive = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "redriveDeadTasks",
    method: "post",
    path: "/{queue}/dead/redrive",
    tags,
    summary: "Put dead tasks (the listed ids, or all) back in the queue with their attempts reset",
    request: { params: queueParams, body: jsonBody(RedriveRequest) },
    responses: { 200: jsonResponse(Redriven, "How many were redriven"), ...commonErrors },
  },
);

const pauseQueue = operation(
  { capability: "queues", action: "admin" },
  {
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
);

const resumeQueue = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "resumeQueue",
    method: "post",
    path: "/{queue}/resume",
    tags,
    summary: "Resume a paused queue",
    description: "Idempotent. Waiting long polls and streaming consumers are served at once.",
    request: { params: queueParams, body: { ...jsonBody(EmptyBody), required: false } },
    responses: { 200: jsonResponse(Paused, "Resumed"), ...commonErrors },
  },
);

const deleteQueue = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "deleteQueue",
    method: "delete",
    path: "/{queue}",
    tags,
    summary: "Delete the queue: every task in every state, its counters and the paused flag",
    description:
      "Open long polls answer an empty list and streaming sockets are closed; later calls on the deleted task ids answer 404. The name leaves the catalog; the queue can be used again at once, empty.",
    request: { params: queueParams },
    responses: { 200: jsonResponse(QueueDeleted, "Deleted (also when it held nothing)"), ...commonErrors },
  },
);

const consume = operation(
  { capability: "queues", action: "consume", queryToken: true },
  {
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
);

const unknownSchedule = errorResponse("`not_found`: no such schedule");
const scheduleTags = ["Task queue: schedules"];

const putSchedule = operation(
  { capability: "queues", action: "admin", catalog: true },
  {
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
      413: errorResponse("A payload over 256 KiB (`details.field` is `task.payload`), or a body over 1 MiB"),
    },
  },
);

const listSchedules = operation(
  { capability: "queues", action: "read" },
  {
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
);

const getSchedule = operation(
  { capability: "queues", action: "read" },
  {
    operationId: "getSchedule",
    method: "get",
    path: "/{queue}/schedules/{name}",
    tags: scheduleTags,
    summary: "A schedule with its next run times",
    request: { params: scheduleParams },
    responses: { 200: jsonResponse(ScheduleInfo, "The schedule"), 404: unknownSchedule, ...commonErrors },
  },
);

const pauseSchedule = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "pauseSchedule",
    method: "post",
    path: "/{queue}/schedules/{name}/pause",
    tags: scheduleTags,
    summary: "Pause a schedule: no runs until it is resumed",
    description: "Idempotent. The body may be absent or `{}`.",
    request: { params: scheduleParams, body: { ...jsonBody(EmptyBody), required: false } },
    responses: { 200: jsonResponse(ScheduleInfo, "Paused"), 404: unknownSchedule, ...commonErrors },
  },
);

const resumeSchedule = operation(
  { capability: "queues", action: "admin" },
  {
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
);

const deleteSchedule = operation(
  { capability: "queues", action: "admin" },
  {
    operationId: "deleteSchedule",
    method: "delete",
    path: "/{queue}/schedules/{name}",
    tags: scheduleTags,
    summary: "Delete a schedule (the tasks its runs enqueued stay)",
    request: { params: scheduleParams },
    responses: { 200: jsonResponse(ScheduleDeleted, "Deleted"), 404: unknownSchedule, ...commonErrors },
  },
);

const putConfig = operation(
  { capability: "queues", action: "admin" },
  {
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
);

const getConfig = operation(
  { capability: "queues", action: "read" },
  {
    operationId: "getQueueConfig",
    method: "get",
    path: "/{queue}/config",
    tags,
    summary: "The queue's lease limits",
    request: { params: queueParams },
    responses: { 200: jsonResponse(QueueConfig, "The queue's lease limits (null: none)"), ...commonErrors },
  },
);

/** The queue routes, mounted at `/v1/queues`. */
export const queueRoutes = createRouter()
  .openapi(
    enqueue,
    async (c) => {
      const { queue } = c.req.valid("param");
      return c.json(unwrap(await queueObject(c.env, queue).enqueue(c.req.valid("json"))), 201);
    },
    (result) => {
      if (result.success) return;
      // The union's own error says only "invalid input": validate the branch the body means.
      const body = (result as { data?: unknown }).data;
      const branch = result.target === "json" ? enqueueSchemaFor(body).safeParse(body) : result;
      throw invalidRequest(branch.success ? result.error : branch.error, result.target);
    },
  )
  .openapi(purge, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).purge(c.req.valid("query"))), 200);
  })
  .openapi(listTasks, async (c) => {
    const { queue } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).tasks(c.req.valid("query")));
  })
  .openapi(lease, async (c) => {
    const { queue } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).lease(c.req.valid("json")));
  })
  .openapi(ack, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).ack(id, c.req.valid("json"))), 200);
  })
  .openapi(nack, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).nack(id, c.req.valid("json"))), 200);
  })
  .openapi(extend, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).extend(id, c.req.valid("json"))), 200);
  })
  .openapi(reportProgress, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).reportProgress(id, c.req.valid("json"))), 200);
  })
  .openapi(appendLogs, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).appendLogs(id, c.req.valid("json"))), 200);
  })
  .openapi(promote, async (c) => {
    const { queue, id } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).promote(id)), 200);
  })
  .openapi(ackBatch, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).ackBatch(c.req.valid("json"))), 200);
  })
  .openapi(getTask, async (c) => {
    const { queue, id } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).task(id));
  })
  .openapi(stats, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(await queueObject(c.env, queue).stats(), 200);
  })
  .openapi(dead, async (c) => {
    const { queue } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).dead(c.req.valid("query")));
  })
  .openapi(redrive, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).redrive(c.req.valid("json"))), 200);
  })
  .openapi(pauseQueue, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(await queueObject(c.env, queue).setPaused(true), 200);
  })
  .openapi(resumeQueue, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(await queueObject(c.env, queue).setPaused(false), 200);
  })
  .openapi(deleteQueue, async (c) => {
    const { queue } = c.req.valid("param");
    const deleted = await queueObject(c.env, queue).deleteQueue();
    await forgetName(c.env, "queues", queue);
    return c.json(deleted, 200);
  })
  .openapi(putConfig, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(await queueObject(c.env, queue).setLeaseLimits(c.req.valid("json")), 200);
  })
  .openapi(getConfig, async (c) => {
    const { queue } = c.req.valid("param");
    return c.json(await queueObject(c.env, queue).leaseLimits(), 200);
  })
  .openapi(putSchedule, async (c) => {
    const { queue, name } = c.req.valid("param");
    const put = unwrap(await queueObject(c.env, queue).putSchedule(name, c.req.valid("json")));
    return c.body(put.schedule, put.created ? 201 : 200, {
      "content-type": "application/json",
    }) as unknown as TypedResponse<JSONParsed<ScheduleInfo>, 200 | 201, "json">;
  })
  .openapi(listSchedules, async (c) => {
    const { queue } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).schedulesPage(c.req.valid("query")));
  })
  .openapi(getSchedule, async (c) => {
    const { queue, name } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).schedule(name));
  })
  .openapi(pauseSchedule, async (c) => {
    const { queue, name } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).setSchedulePaused(name, true));
  })
  .openapi(resumeSchedule, async (c) => {
    const { queue, name } = c.req.valid("param");
    return jsonText(c, await queueObject(c.env, queue).setSchedulePaused(name, false));
  })
  .openapi(deleteSchedule, async (c) => {
    const { queue, name } = c.req.valid("param");
    return c.json(unwrap(await queueObject(c.env, queue).deleteSchedule(name)), 200);
  })
  .openapi(consume, async (c) => {
    const { queue } = c.req.valid("param");
    const { prefetch, visibilityMs } = c.req.valid("query");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("invalid_request", "this route needs a WebSocket upgrade (Upgrade: websocket)", {
        field: "upgrade",
      });
    }
    const target = new URL("https://queue.internal/consume");
    target.searchParams.set("prefetch", String(prefetch));
    target.searchParams.set("visibilityMs", String(visibilityMs));
    return queueObject(c.env, queue).fetch(new Request(target, { headers: { upgrade: "websocket" } }));
  });
