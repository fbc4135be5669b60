/** `/v1/topics/{topic}`: thin HTTP over the topic object. */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { ApiError, type Result, unwrap } from "../../shared/errors.ts";
import {
  DeadLetterList,
  type DeadLetterPage,
  DeadLetterRedriveRequest,
  DeadLettersQuery,
  DeadLettersRedriven,
  Deleted,
  EventsPage,
  EventsQuery,
  Published,
  PublishRequest,
  SubscribeQuery,
  Subscription,
  SubscriptionCreated,
  SubscriptionList,
  SubscriptionRequest,
  TopicConfig,
  TopicConfigPatch,
  TopicStats,
} from "../../shared/schemas/bus.ts";
import {
  backpressureResponse,
  commonErrors,
  errorResponse,
  jsonBody,
  jsonResponse,
  NameParam,
} from "../../shared/schemas/common.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";

const TopicParam = NameParam("Topic name").openapi({ param: { name: "topic", in: "path" } });
const params = z.object({ topic: TopicParam });
const subscriptionParams = z.object({
  topic: TopicParam,
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "sub_3f1c0e5b9a7d4c2e8f6a1b0c9d8e7f6a" }),
});
const tags = ["Event bus"];
const topicObject = (env: Env, topic: string) => env.TOPICS.getByName(topic);
const notFound = { 404: errorResponse("No such subscription") };

/**
 * Like {@link unwrap}, but a `backpressure` failure carries its `Retry-After` header, as the
 * contract asks.
 */
export function unwrapPublish<T>(result: Result<T>): T {
  if (!result.ok && result.error.code === "backpressure") {
    const seconds = Number(result.error.details?.retryAfterSeconds ?? 1);
    throw new ApiError(result.error.code, result.error.message, result.error.details, {
      "Retry-After": String(seconds),
    });
  }
  return unwrap(result);
}

const publish = operation(
  { capability: "topics", action: "write", catalog: true },
  {
    operationId: "publishEvents",
    method: "post",
    path: "/{topic}/events",
    tags,
    summary: "Publish one event or a batch of up to 500",
    description:
      "Each event gets the next `seq` of the topic. When the topic's undelivered deliveries reach its limit, non-critical publishes get 429 with `Retry-After`; critical events are always accepted. A batch is accepted or refused whole.",
    request: { params, body: jsonBody(PublishRequest) },
    responses: {
      202: jsonResponse(Published, "Accepted: ids and seqs in the order given"),
      429: backpressureResponse("`backpressure`, with a `Retry-After` header in seconds"),
      ...commonErrors,
    },
  },
);

const createSubscription = operation(
  { capability: "topics", action: "admin", catalog: true },
  {
    operationId: "createSubscription",
    method: "post",
    path: "/{topic}/subscriptions",
    tags,
    summary: "Add a webhook subscription",
    description:
      "Webhooks follow the Standard Webhooks specification; the secret is returned once. URLs must be https and public (with `ALLOW_INSECURE_WEBHOOKS=true`, loopback over http too). Receives events published from now on.",
    request: { params, body: jsonBody(SubscriptionRequest) },
    responses: {
      201: jsonResponse(SubscriptionCreated, "Created"),
      409: errorResponse("`conflict`: the topic has 100 subscriptions"),
      ...commonErrors,
    },
  },
);

const listSubscriptions = operation(
  { capability: "topics", action: "read" },
  {
    operationId: "listSubscriptions",
    method: "get",
    path: "/{topic}/subscriptions",
    tags,
    summary: "List webhook subscriptions (without secrets)",
    request: { params },
    responses: { 200: jsonResponse(SubscriptionList, "The subscriptions"), ...commonErrors },
  },
);

const deleteSubscription = operation(
  { capability: "topics", action: "admin" },
  {
    operationId: "deleteSubscription",
    method: "delete",
    path: "/{topic}/subscriptions/{id}",
    tags,
    summary: "Remove a subscription, its pending deliveries and dead letters",
    request: { params: subscriptionParams },
    responses: { 200: jsonResponse(Deleted, "Deleted"), ...notFound, ...commonErrors },
  },
);

const resumeSubscription = operation(
  { capability: "topics", action: "admin" },
  {
    operationId: "resumeSubscription",
    method: "post",
    path: "/{topic}/subscriptions/{id}/resume",
    tags,
    summary: "Resume a paused subscription",
    description:
      "Ends a pause, by hand or automatic (after 5 dead letters in a row); a successful delivery also resumes it. Also takes a receiver that is `down` as up again, so its backlog goes out at once.",
    request: { params: subscriptionParams },
    responses: { 200: jsonResponse(Subscription, "Resumed"), ...notFound, ...commonErrors },
  },
);

const pauseSubscription = operation(
  { capability: "topics", action: "admin" },
  {
    operationId: "pauseSubscription",
    method: "post",
    path: "/{topic}/subscriptions/{id}/pause",
    tags,
    summary: "Pause a subscription by hand",
    description:
      "The same effect as the automatic pause: pending non-critical deliveries go to the dead letters (redrive them later), new non-critical events too; critical events keep being retried. `resume` ends it.",
    request: { params: subscriptionParams },
    responses: { 200: jsonResponse(Subscription, "Paused"), ...notFound, ...commonErrors },
  },
);

const deadLetters = operation(
  { capability: "topics", action: "read" },
  {
    operationId: "listDeadLetters",
    method: "get",
    path: "/{topic}/subscriptions/{id}/dead-letters",
    tags,
    summary: "Events a subscription gave up on, oldest first",
    description: "A page stops at `limit` or at 8 MiB of event text; `cursor` continues it.",
    request: { params: subscriptionParams, query: DeadLettersQuery },
    responses: { 200: jsonResponse(DeadLetterList, "Dead letters"), ...notFound, ...commonErrors },
  },
);

const redriveDeadLetters = operation(
  { capability: "topics", action: "admin" },
  {
    operationId: "redriveDeadLetters",
    method: "post",
    path: "/{topic}/subscriptions/{id}/dead-letters/redrive",
    tags,
    summary: "Deliver dead letters again (the listed seqs, or all), with their attempts reset",
    description:
      "Moves the dead letters back to the subscription's pending deliveries, due at once and sent in priority order like any delivery, with `maxAttempts` attempts again. Seqs that are not dead letters of the subscription are skipped (not counted). Never refused for backpressure: redriven deliveries count as pending, so publishes may get 429 until they drain. A paused subscription stays paused: each redriven event gets one attempt; a success resumes the subscription, a failure dead-letters the event again (resume first to give them every attempt).",
    request: { params: subscriptionParams, body: { ...jsonBody(DeadLetterRedriveRequest), required: false } },
    responses: {
      200: jsonResponse(DeadLettersRedriven, "How many dead letters are pending again"),
      ...notFound,
      ...commonErrors,
    },
  },
);

const subscribe = operation(
  { capability: "topics", action: "read", queryToken: true },
  {
    operationId: "subscribeTopic",
    method: "get",
    path: "/{topic}/subscribe",
    tags,
    summary: "Subscribe over a WebSocket",
    description:
      'Send `Upgrade: websocket`. Messages: `{"type": "event", "event": {...}}`; answer `{"type": "ack", "seq"}` for critical events, which are re-sent every 10 s until acked. `fromSeq` replays retained events first. `{"type": "ping"}` gets `{"type": "pong"}`.',
    request: { params, query: SubscribeQuery },
    responses: {
      101: { description: "Switching protocols to a WebSocket" },
      400: errorResponse("Not a WebSocket upgrade, or a bad filter or fromSeq"),
      401: commonErrors[401],
    },
  },
);

const events = operation(
  { capability: "topics", action: "read" },
  {
    operationId: "listEvents",
    method: "get",
    path: "/{topic}/events",
    tags,
    summary: "Read retained events from a seq on (pull consumers)",
    description:
      "A page stops at `limit` events or at 8 MiB of event text (with at least one event); read on from `nextSeq`.",
    request: { params, query: EventsQuery },
    responses: { 200: jsonResponse(EventsPage, "Events and the seq to read from next"), ...commonErrors },
  },
);

const stats = operation(
  { capability: "topics", action: "read" },
  {
    operationId: "getTopicStats",
    method: "get",
    path: "/{topic}/stats",
    tags,
    summary: "Counters of the topic and of each subscription",
    description:
      "`delivered` and `failed` count webhook deliveries (one per event and subscription) that succeeded or went to dead letters (less those redriven since); `pending` counts those still to be made; `rejected` counts events refused by backpressure.",
    request: { params },
    responses: { 200: jsonResponse(TopicStats, "Stats"), ...commonErrors },
  },
);

const getConfig = operation(
  { capability: "topics", action: "read" },
  {
    operationId: "getTopicConfig",
    method: "get",
    path: "/{topic}/config",
    tags,
    summary: "The topic's limits",
    request: { params },
    responses: { 200: jsonResponse(TopicConfig, "Settings"), ...commonErrors },
  },
);

const putConfig = operation(
  { capability: "topics", action: "admin" },
  {
    operationId: "setTopicConfig",
    method: "put",
    path: "/{topic}/config",
    tags,
    summary: "Change the topic's limits (fields left out keep their value)",
    request: { params, body: jsonBody(TopicConfigPatch) },
    responses: { 200: jsonResponse(TopicConfig, "Settings now in force"), ...commonErrors },
  },
);

/** The event bus routes, mounted at `/v1/topics`. */
export const busRoutes = createRouter()
  .openapi(publish, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json(unwrapPublish(await topicObject(c.env, topic).publish(c.req.valid("json"))), 202);
  })
  .openapi(createSubscription, async (c) => {
    const { topic } = c.req.valid("param");
    const created = await topicObject(c.env, topic).createSubscription(c.req.valid("json"));
    return c.json(unwrap(created), 201);
  })
  .openapi(listSubscriptions, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json({ subscriptions: await topicObject(c.env, topic).listSubscriptions() }, 200);
  })
  .openapi(deleteSubscription, async (c) => {
    const { topic, id } = c.req.valid("param");
    return c.json(unwrap(await topicObject(c.env, topic).deleteSubscription(id)), 200);
  })
  .openapi(resumeSubscription, async (c) => {
    const { topic, id } = c.req.valid("param");
    return c.json(unwrap(await topicObject(c.env, topic).resumeSubscription(id)), 200);
  })
  .openapi(pauseSubscription, async (c) => {
    const { topic, id } = c.req.valid("param");
    return c.json(unwrap(await topicObject(c.env, topic).pauseSubscription(id)), 200);
  })
  .openapi(deadLetters, async (c) => {
    const { topic, id } = c.req.valid("param");
    const list = await topicObject(c.env, topic).deadLetters(id, c.req.valid("query"));
    return c.json(unwrap<DeadLetterPage>(list), 200);
  })
  .openapi(redriveDeadLetters, async (c) => {
    const { topic, id } = c.req.valid("param");
    const redriven = await topicObject(c.env, topic).redriveDeadLetters(id, c.req.valid("json").seqs);
    return c.json(unwrap(redriven), 200);
  })
  .openapi(subscribe, async (c) => {
    const { topic } = c.req.valid("param");
    const query = c.req.valid("query");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("invalid_request", "this route needs a WebSocket upgrade (Upgrade: websocket)", {
        field: "upgrade",
      });
    }
    const target = new URL("https://topic.internal/subscribe");
    if (query.filter) target.searchParams.set("filter", query.filter);
    if (query.fromSeq !== undefined) target.searchParams.set("fromSeq", String(query.fromSeq));
    return topicObject(c.env, topic).fetch(new Request(target, { headers: { upgrade: "websocket" } }));
  })
  .openapi(events, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json(await topicObject(c.env, topic).events(c.req.valid("query")), 200);
  })
  .openapi(stats, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json(await topicObject(c.env, topic).stats(), 200);
  })
  .openapi(getConfig, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json(await topicObject(c.env, topic).getConfig(), 200);
  })
  .openapi(putConfig, async (c) => {
    const { topic } = c.req.valid("param");
    return c.json(await topicObject(c.env, topic).setConfig(c.req.valid("json")), 200);
  });
