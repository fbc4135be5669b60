/** `/v1/queues/{queue}`: every task queue operation, declared once (see workers/declare/table.ts). */
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { badMessageAnswer, PUSH_START, parseConsumerMessage } from "../../durable-objects/queue/consumers.ts";
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import type { JsonText } from "../../shared/json-text.ts";
import { commonErrors, errorResponse, jsonResponse, NameParam, PathId } from "../../shared/schemas/common.ts";
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
  Purged,
  PurgeQuery,
  QueueStats,
  Redriven,
  RedriveRequest,
  RunQuery,
  TaskDeleted,
  TaskInfo,
  TaskInput,
  TaskListQuery,
  TaskPage,
  TaskQuery,
} from "../../shared/schemas/queue.ts";
import { QueueConfig, QueueConfigRequest } from "../../shared/schemas/queue-config.ts";
import {
  childQueues,
  EnqueueFlowRequest,
  FlowsEnqueued,
  flowSchemaFor,
} from "../../shared/schemas/queue-flow.ts";
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
import { ConsumeQuery, Paused, QueueDeleted } from "../../shared/schemas/queue-stream.ts";
import { forgetName } from "../catalog/note.ts";
import { declareFor } from "../declare/declare-for.ts";
import { leavingOnAbort } from "../declare/leaving-on-abort.ts";
import type { CallContext } from "../declare/table.ts";
import type { AppEnv } from "../http/router.ts";
import { admitSocket } from "../http/socket-admission.ts";
import { type RelayRules, relayToObject } from "../http/socket-relay.ts";
import { requireWebSocketUpgrade } from "../http/upgrade.ts";
import {
  oversizedFlows,
  oversizedLines,
  oversizedProgress,
  oversizedResult,
  oversizedSchedule,
  oversizedTasks,
} from "./body-sizes.ts";

const QueueName = NameParam("Queue name").openapi({ param: { name: "queue", in: "path" } });
const pathParams = {
  queue: QueueName,
  id: PathId({ description: "Task id", example: "42" }),
  name: ScheduleName,
};
const queues = declareFor({ capability: "queues", tags: ["Task queue"], params: pathParams });
const queueSchedules = declareFor({
  capability: "queues",
  tags: ["Task queue: schedules"],
  params: pathParams,
});
const queueObject = (env: Env, queue: string) => env.QUEUES.getByName(queue);
type QueueStub = ReturnType<typeof queueObject>;

const leaseConflict = errorResponse("`lease_mismatch`: the lease expired or another consumer holds the task");
const unknownTask = errorResponse("`not_found`: no such task");
/** The refusals of a call that only the task's lease holder may make. */
const leaseHolderErrors = { 404: unknownTask, 409: leaseConflict };
/** The refusals of a report by a task's lease holder (progress, logs): `what` is too large a field. */
const reportErrors = (what: string) => ({
  ...leaseHolderErrors,
  413: errorResponse(`${what}, or a body over 1 MiB`),
});

const unknownSchedule = errorResponse("`not_found`: no such schedule");

/** An answer that is the object's JSON text as a whole (`jsonText` in workers/declare/table.ts). */
const sentAsIs = <T>(text: JsonText<T>) => ({ text });

/** Deletes the queue's object state, then its name from the catalog. */
async function deleteQueue(env: Env, queue: string) {
  const deleted = await queueObject(env, queue).deleteQueue();
  await forgetName(env, "queues", queue);
  return ok(deleted);
}

/**
 * Calls `wait` on the queue's object: with `waitMs`, a wait for a task's end, which a caller who
 * goes away leaves at once (its ticket); without, the task as it stands.
 */
function waitForEnd<T>(
  env: Env,
  queue: string,
  waitMs: number,
  context: CallContext,
  wait: (object: QueueStub, ticket?: string) => Promise<T>,
) {
  const object = queueObject(env, queue);
  if (waitMs === 0) return wait(object);
  return leavingOnAbort(
    context,
    (ticket) => wait(object, ticket),
    (ticket) => object.leaveWait(ticket),
  );
}

/**
 * What a consumer may send: well-formed messages go on to the object as sent, which answers each in
 * turn; others are answered here, in their turn.
 */
const consumerRules: RelayRules = {
  route: "queue",
  classify(frame) {
    const parsed = parseConsumerMessage(frame);
    // Well-formed means text: String() hands it on unchanged.
    return parsed.ok ? { forward: String(frame) } : { bad: badMessageAnswer(parsed.error) };
  },
  isAnswer: (frame) => typeof frame === "string" && !frame.startsWith(PUSH_START),
};

/**
 * Opens a socket to the queue's object, which holds the consumer sockets (hibernatable), and relays
 * the client to it through the Worker, so that the object never receives a client's bad frames. A
 * caller cooling down after such a socket is refused before any socket is made.
 */
async function consume(
  c: Context<AppEnv>,
  queue: string,
  query: z.output<typeof ConsumeQuery>,
): Promise<Response> {
  requireWebSocketUpgrade(c);
  const admission = await admitSocket(c, consumerRules.route, queue);
  const target = new URL("https://queue.internal/consume");
  target.searchParams.set("prefetch", String(query.prefetch));
  target.searchParams.set("visibilityMs", String(query.visibilityMs));
  return relayToObject(queueObject(c.env, queue), target, consumerRules, admission);
}

/** The queue operations: routes at `/v1/queues`, methods of `env.SWITCHYARD.queues()`. */
export const queueOperations = {
  enqueue: queues.write("enqueueTasks", "POST /{queue}/tasks", {
    catalog: true,
    summary: "Enqueue one task or a batch of up to 1000",
    description:
      "A live task (ready, delayed or leased) with the same `dedupKey` answers with its id instead of a new task. A batch is one transaction.",
    body: EnqueueRequest,
    responses: {
      201: jsonResponse(Enqueued, "The ids, in the order of the tasks"),
      413: errorResponse("A payload over 256 KiB (`details.field` names it), or a body over 1 MiB"),
    },
    bodySchemaFor: enqueueSchemaFor,
    oversized: oversizedTasks,
    call: (env, { params, body }) => queueObject(env, params.queue).enqueue(body),
  }),

  flow: queues.write("enqueueFlow", "POST /{queue}/flows", {
    catalog: true,
    tags: ["Task queue: flows"],
    summary:
      "Enqueue a flow, or a batch of flows: a parent task that becomes ready once its children (here or in other queues) are done",
    description:
      'The parent waits in state `waiting` (never leased) until every child has ended; then it becomes ready exactly once and its lease and task info carry `childResults` (each child\'s queue, id, state and result, up to 1 MiB of results). A dead child fails the parent (`onChildFailure: fail`, its `lastError` names the child) or counts as done without a result (`ignore`). Children nest (up to 8 levels, 1,000 tasks in all) and may live in other queues (`queue`): the token needs `write` on each. A live task holding the parent\'s `dedupKey` answers with its id (`deduplicated`). `{"flows": [...]}` enqueues up to 500 flows in one transaction (1,000 tasks in all, parents and children), answered `{"flows": [...]}` in the order given; each parent\'s `dedupKey` counts on its own, and a parent earlier in the batch holds its key for those after it. See docs/queue.md.',
    body: EnqueueFlowRequest,
    responses: {
      201: jsonResponse(
        FlowsEnqueued,
        "The parent's id and the children's ids, in the order given; for a batch, one such answer per flow",
      ),
      403: errorResponse("The token may not write to this queue or to a child's queue, or a foreign Origin"),
      413: errorResponse("A payload over 256 KiB (`details.field` names it), or a body over 1 MiB"),
    },
    bodySchemaFor: flowSchemaFor,
    oversized: oversizedFlows,
    otherNames: childQueues,
    call: (env, { params, body }) => queueObject(env, params.queue).flow(body),
  }),

  purge: queues.admin("purgeTasks", "DELETE /{queue}/tasks", {
    summary: "Delete completed or dead tasks finished at least olderThanMs ago",
    query: PurgeQuery,
    responses: { 200: jsonResponse(Purged, "How many were deleted") },
    call: (env, { params, query }) => queueObject(env, params.queue).purge(query),
  }),

  tasks: queues.read("listTasks", "GET /{queue}/tasks", {
    summary: "A page of the tasks in one state, or the live task holding a dedup key",
    description:
      "`ready` tasks come in lease order (highest priority first, oldest first within one); the other states in the order the tasks were enqueued, oldest first. A page stops at `limit` tasks or 8 MiB of payload, result and error text, whichever comes first (always at least one task); `cursor` says where to go on.",
    query: TaskListQuery,
    responses: { 200: jsonResponse(TaskPage, "Tasks and the next cursor (null at the end)") },
    call: (env, { params, query }) => queueObject(env, params.queue).tasks(query),
    jsonText: sentAsIs,
  }),

  lease: queues.consume("leaseTasks", "POST /{queue}/lease", {
    summary: "Lease up to max tasks, highest priority first, oldest first within a priority",
    description:
      "With `waitMs`, a long poll: answered the moment a task becomes ready (enqueue, end of a delay, nack, lease expiry), or with an empty list after `waitMs`.",
    body: LeaseRequest,
    responses: { 200: jsonResponse(Leased, "The leased tasks; empty when none") },
    call: (env, { params, body }) => queueObject(env, params.queue).lease(body),
    jsonText: sentAsIs,
  }),

  ack: queues.consume("ackTask", "POST /{queue}/tasks/{id}/ack", {
    summary: "Complete a leased task",
    body: AckRequest,
    responses: { 200: jsonResponse(Acked, "Completed"), ...leaseHolderErrors },
    oversized: oversizedResult,
    call: (env, { params, body }) => queueObject(env, params.queue).ack(params.id, body),
  }),

  nack: queues.consume("nackTask", "POST /{queue}/tasks/{id}/nack", {
    summary: "Give a leased task back: retry after a backoff, or dead-letter it",
    description:
      "Retries wait with exponential backoff and jitter (or `delayMs`). When `attempt` has reached `maxAttempts`, or `retry` is false, the task goes to the dead-letter queue.",
    body: NackRequest,
    responses: { 200: jsonResponse(Nacked, "Where the task went"), ...leaseHolderErrors },
    call: (env, { params, body }) => queueObject(env, params.queue).nack(params.id, body),
  }),

  extend: queues.consume("extendTaskLease", "POST /{queue}/tasks/{id}/extend", {
    summary: "Extend a lease to now + visibilityMs",
    body: ExtendRequest,
    responses: { 200: jsonResponse(Extended, "The new expiry"), ...leaseHolderErrors },
    call: (env, { params, body }) => queueObject(env, params.queue).extend(params.id, body),
  }),

  progress: queues.consume("reportTaskProgress", "POST /{queue}/tasks/{id}/progress", {
    summary: "Report a leased task's progress (any JSON, at most 4 KiB)",
    description:
      "Only the live lease holder may. The value replaces the last one and shows in task info (`progress`, `progressAt`); it stays through retries (nack, lease expiry, a closed consumer socket). It does not extend the lease.",
    body: ProgressRequest,
    responses: {
      200: jsonResponse(ProgressReported, "Stored"),
      ...reportErrors("`progress` over 4 KiB of JSON text (`details.field` is `progress`)"),
    },
    oversized: oversizedProgress,
    call: (env, { params, body }) => queueObject(env, params.queue).reportProgress(params.id, body),
  }),

  logs: queues.consume("appendTaskLogs", "POST /{queue}/tasks/{id}/logs", {
    summary: "Append up to 100 log lines to a leased task",
    description:
      "Only the live lease holder may. Each line is stored with the attempt that wrote it and the queue's time; a task keeps its newest 100 lines (task info: `logs`, and `logsDropped` for the older ones), through retries. A line over 1 KiB refuses the whole request.",
    body: LogsRequest,
    responses: {
      200: jsonResponse(LogsAppended, "Appended"),
      ...reportErrors("A line over 1 KiB of UTF-8 (`details.field` names it, `lines.3`)"),
    },
    oversized: oversizedLines,
    call: (env, { params, body }) => queueObject(env, params.queue).appendLogs(params.id, body),
  }),

  deleteTask: queues.admin("deleteTask", "DELETE /{queue}/tasks/{id}", {
    summary: "Delete a task no consumer holds (ready or delayed)",
    description:
      "Takes work back before it runs (again): a scheduled email that must not go, a job whose request was withdrawn, a failing task waiting for its next attempt. The task is gone at once: its dedup key is free, a wait for its end answers 404, and a flow parent waiting for it hears of it as a dead child (`deleted before it ran`) and follows its `onChildFailure`; the answer comes once the parent's queue has that. A leased, completed, dead or waiting task answers 409 `conflict` with `details.state`; finished tasks go with a purge.",
    responses: {
      200: jsonResponse(TaskDeleted, "Deleted"),
      404: unknownTask,
      409: errorResponse("`conflict`: the task is leased, ended or waiting (`details.state`)"),
    },
    call: (env, { params }) => queueObject(env, params.queue).deleteTask(params.id),
  }),

  promote: queues.admin("promoteTask", "POST /{queue}/tasks/{id}/promote", {
    summary: "Make a delayed task ready now",
    description:
      "The task keeps its priority and goes behind the tasks already ready in it. A waiting long poll gets it at once. The body may be absent or `{}`.",
    responses: {
      200: jsonResponse(Promoted, "The task is ready"),
      404: unknownTask,
      409: errorResponse("`conflict`: the task is not delayed (`details.state` says what it is)"),
    },
    call: (env, { params }) => queueObject(env, params.queue).promote(params.id),
  }),

  ackBatch: queues.consume("ackTasks", "POST /{queue}/ack", {
    summary: "Complete up to 1000 leased tasks in one transaction",
    body: AckBatchRequest,
    responses: {
      200: jsonResponse(AckBatchResult, "One result per ack: `ok`, or the `code` of its failure"),
    },
    call: (env, { params, body }) => queueObject(env, params.queue).ackBatch(body),
  }),

  task: queues.read("getTask", "GET /{queue}/tasks/{id}", {
    summary: "A task's state, attempts, last error and result; with waitMs, once it has ended",
    description:
      "With `waitMs`, a long poll for the task's end: answered the moment it is `completed` or `dead` (an ack, a last nack, a lease that expires on its last attempt, a failed flow), with a `404` if it or its queue is deleted meanwhile, or as it stands once `waitMs` has passed. A task already ended answers at once. A queue holds at most 1,000 such waits at once; past that the task is answered as it stands.",
    query: TaskQuery,
    responses: { 200: jsonResponse(TaskInfo, "The task"), 404: unknownTask },
    call: (env, { params, query }, context) =>
      waitForEnd(env, params.queue, query.waitMs, context, (object, ticket) =>
        object.task(params.id, query, ticket),
      ),
    jsonText: sentAsIs,
  }),

  run: queues.write("runTask", "POST /{queue}/run", {
    catalog: true,
    summary: "Enqueue one task and wait for its end",
    description:
      "Request/response over the queue: enqueues the task as `POST .../tasks` does, then answers as `GET .../tasks/{id}?waitMs=` does: the moment it is `completed` or `dead`, or as it stands once `waitMs` (default 20000) has passed, when its `id` serves to wait on. Needs `write`: the answer is the task this call made. A live task that already holds the `dedupKey` is not waited on: `409 conflict` names it (`details.id`), and waiting for it needs `read`.",
    query: RunQuery,
    body: TaskInput,
    responses: {
      200: jsonResponse(TaskInfo, "The task as it ended, or as it stands after waitMs"),
      404: errorResponse(
        "`not_found`: the task or its queue was deleted (or the task purged) while it waited",
      ),
      409: errorResponse("`conflict`: a live task holds the `dedupKey` (`details.id`)"),
      413: errorResponse("A payload over 256 KiB, or a body over 1 MiB"),
    },
    oversized: oversizedTasks,
    call: (env, { params, body, query }, context) =>
      waitForEnd(env, params.queue, query.waitMs, context, (object, ticket) =>
        object.run(body, query, ticket),
      ),
    jsonText: sentAsIs,
  }),

  stats: queues.read("getQueueStats", "GET /{queue}/stats", {
    summary: "Counts per state, running totals and the age of the oldest ready task",
    responses: { 200: jsonResponse(QueueStats, "The stats") },
    call: async (env, { params }) => ok(await queueObject(env, params.queue).stats()),
  }),

  dead: queues.read("listDeadTasks", "GET /{queue}/dead", {
    summary: "A page of the dead-letter queue, oldest first",
    query: DeadQuery,
    responses: { 200: jsonResponse(DeadPage, "Dead tasks and the next cursor") },
    call: (env, { params, query }) => queueObject(env, params.queue).dead(query),
    jsonText: sentAsIs,
  }),

  redrive: queues.admin("redriveDeadTasks", "POST /{queue}/dead/redrive", {
    summary: "Put dead tasks (the listed ids, or all) back in the queue with their attempts reset",
    body: RedriveRequest,
    responses: { 200: jsonResponse(Redriven, "How many were redriven") },
    call: (env, { params, body }) => queueObject(env, params.queue).redrive(body),
  }),

  pause: queues.admin("pauseQueue", "POST /{queue}/pause", {
    summary: "Pause the queue: leases and pushes hand out nothing until it is resumed",
    description:
      "Idempotent; works on a queue never used before. Enqueue still works; long polls keep waiting; `stats` shows `paused`.",
    responses: { 200: jsonResponse(Paused, "Paused") },
    call: async (env, { params }) => ok(await queueObject(env, params.queue).setPaused(true)),
  }),

  resume: queues.admin("resumeQueue", "POST /{queue}/resume", {
    summary: "Resume a paused queue",
    description: "Idempotent. Waiting long polls and streaming consumers are served at once.",
    responses: { 200: jsonResponse(Paused, "Resumed") },
    call: async (env, { params }) => ok(await queueObject(env, params.queue).setPaused(false)),
  }),

  deleteQueue: queues.admin("deleteQueue", "DELETE /{queue}", {
    summary: "Delete the queue: every task in every state, its counters and the paused flag",
    description:
      "Open long polls answer an empty list and streaming sockets are closed; later calls on the deleted task ids answer 404. Flow children deleted before they ended count as dead children for their parents in other queues (error `queue <queue> was deleted`); the answer comes once those queues have it. The name leaves the catalog; the queue can be used again at once, empty.",
    responses: { 200: jsonResponse(QueueDeleted, "Deleted (also when it held nothing)") },
    call: (env, { params }) => deleteQueue(env, params.queue),
  }),

  setConfig: queues.admin("setQueueConfig", "PUT /{queue}/config", {
    summary: "Set the queue's lease limits: a rate (leases per period) and a concurrency cap",
    description:
      "At most `rateLimit.leases` tasks are leased in any window of `rateLimit.periodMs`, and at most `maxLeased` are leased at once, HTTP leases and streaming pushes together. A limited lease answers fewer tasks (a long poll waits until the limits allow); streaming pushes are paced. An absent field stays as it is; null removes that limit. `stats` shows the limits and how often they bit.",
    body: QueueConfigRequest,
    responses: { 200: jsonResponse(QueueConfig, "The queue's lease limits now") },
    call: async (env, { params, body }) => ok(await queueObject(env, params.queue).setLeaseLimits(body)),
  }),

  config: queues.read("getQueueConfig", "GET /{queue}/config", {
    summary: "The queue's lease limits",
    responses: { 200: jsonResponse(QueueConfig, "The queue's lease limits (null: none)") },
    call: async (env, { params }) => ok(await queueObject(env, params.queue).leaseLimits()),
  }),

  putSchedule: queueSchedules.admin("createSchedule", "PUT /{queue}/schedules/{name}", {
    catalog: true,
    summary: "Create or replace a schedule: a task enqueued on a cron expression or a fixed interval",
    description:
      "Give `cron` (with `timezone`, UTC by default) or `everyMs`, not both. Each run enqueues `task` with the dedup key `schedule:<name>:<run instant>`, so a run is never enqueued twice. Runs more than a minute late (the queue was down) are missed: `skip` drops them, `once` makes one run for all of them; never a burst. A replaced schedule keeps its paused flag and its run history; its next run follows the new definition from now. Daylight-saving transitions behave as croner documents (see docs/queue.md).",
    body: ScheduleRequest,
    responses: {
      200: jsonResponse(ScheduleInfo, "Replaced"),
      201: jsonResponse(ScheduleInfo, "Created"),
      413: errorResponse("A payload over 256 KiB (`details.field` is `task.payload`), or a body over 1 MiB"),
    },
    oversized: oversizedSchedule,
    call: (env, { params, body }) => queueObject(env, params.queue).putSchedule(params.name, body),
    jsonText: (put) => ({ text: put.schedule, status: put.created ? 201 : 200 }),
  }),

  schedules: queueSchedules.read("listSchedules", "GET /{queue}/schedules", {
    summary: "A page of the queue's schedules in name order",
    description:
      "Ascending byte order of the name. A page stops at `limit` schedules or 8 MiB of payload (always at least one); `cursor` says where to go on.",
    query: ScheduleListQuery,
    responses: { 200: jsonResponse(SchedulePage, "Schedules and the next cursor (null at the end)") },
    call: (env, { params, query }) => queueObject(env, params.queue).schedulesPage(query),
    jsonText: sentAsIs,
  }),

  schedule: queueSchedules.read("getSchedule", "GET /{queue}/schedules/{name}", {
    summary: "A schedule with its next run times",
    responses: { 200: jsonResponse(ScheduleInfo, "The schedule"), 404: unknownSchedule },
    call: (env, { params }) => queueObject(env, params.queue).schedule(params.name),
    jsonText: sentAsIs,
  }),

  pauseSchedule: queueSchedules.admin("pauseSchedule", "POST /{queue}/schedules/{name}/pause", {
    summary: "Pause a schedule: no runs until it is resumed",
    description: "Idempotent. The body may be absent or `{}`.",
    responses: { 200: jsonResponse(ScheduleInfo, "Paused"), 404: unknownSchedule },
    call: (env, { params }) => queueObject(env, params.queue).setSchedulePaused(params.name, true),
    jsonText: sentAsIs,
  }),

  resumeSchedule: queueSchedules.admin("resumeSchedule", "POST /{queue}/schedules/{name}/resume", {
    summary: "Resume a schedule: it runs next at its first time after now",
    description:
      "Idempotent. Runs that fell due while it was paused are not made up. The body may be absent or `{}`.",
    responses: { 200: jsonResponse(ScheduleInfo, "Resumed"), 404: unknownSchedule },
    call: (env, { params }) => queueObject(env, params.queue).setSchedulePaused(params.name, false),
    jsonText: sentAsIs,
  }),

  deleteSchedule: queueSchedules.admin("deleteSchedule", "DELETE /{queue}/schedules/{name}", {
    summary: "Delete a schedule (the tasks its runs enqueued stay)",
    responses: { 200: jsonResponse(ScheduleDeleted, "Deleted"), 404: unknownSchedule },
    call: (env, { params }) => queueObject(env, params.queue).deleteSchedule(params.name),
  }),

  consume: queues.consume.upgrade("consumeQueue", "GET /{queue}/consume", {
    summary: "Consume over a WebSocket: tasks are pushed while the socket has credit",
    description:
      'Send `Upgrade: websocket`. The server pushes `{"type": "tasks", "tasks": [LeasedTask]}` while the socket holds fewer than `prefetch` unsettled tasks. Send `{"type": "ack", "acks": [{"id", "leaseId", "result"?}]}`, `{"type": "nack", "id", "leaseId", "error"?, "retry"?, "delayMs"?}` and `{"type": "extend", "id", "leaseId", "visibilityMs"}`, `{"type": "progress", "id", "leaseId", "progress"}` and `{"type": "log", "id", "leaseId", "lines"}`; each is answered in order with `acked` (`results`), `nacked` (`id`, `state`, `nextAttemptAt`?), `extended` (`id`, `leaseExpiresAt`), `progressed` (`id`, `progressAt`), `logged` (`id`, `appended`, `kept`, `dropped`) or `{"type": "error", "id"?, "error"}`. When the socket closes its unsettled tasks return to ready at once. More than 10 bad messages close the socket with 1008; after a second such close the token gets 429 on this consume route for a cool-down. See docs/queue.md.',
    query: ConsumeQuery,
    responses: {
      400: errorResponse("Not a WebSocket upgrade, or a bad prefetch or visibilityMs"),
      401: commonErrors[401],
      403: errorResponse("A token whose scopes do not allow consume on this queue, or a foreign Origin"),
    },
    commonErrors: false,
    upgrade: (c, { params, query }) => consume(c, params.queue, query),
  }),
};
