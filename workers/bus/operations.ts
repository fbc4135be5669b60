/** `/v1/topics/{topic}`: every event bus operation, declared once (see workers/declare/table.ts). */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  ackFrame,
  BAD_TOPIC_MESSAGE,
  PONG,
  topicClientMessage,
} from "../../durable-objects/logic/topic-messages.ts";
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import {
  DeadLetterList,
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
import { declare, declareUpgrade } from "../declare/table.ts";
import type { AppEnv } from "../http/router.ts";
import { type RelayRules, relaySocket } from "../http/socket-relay.ts";
import { requireWebSocketUpgrade } from "../http/upgrade.ts";

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

/** What a subscriber may send: acks go on to the object, pings are answered by the relay. */
const subscriberRules: RelayRules = {
  route: "topic",
  classify(frame) {
    const message = topicClientMessage(frame);
    if (message?.type === "ack") return { forward: ackFrame(message.seq) };
    if (message?.type === "ping") return { answer: PONG };
    return undefined;
  },
  badAnswer: BAD_TOPIC_MESSAGE,
};

/**
 * Opens a socket to the topic's object, which holds the subscribers (hibernatable), and relays the
 * client to it through the Worker, so that the object never receives a client's bad frames.
 */
async function subscribe(
  c: Context<AppEnv>,
  topic: string,
  query: z.output<typeof SubscribeQuery>,
): Promise<Response> {
  requireWebSocketUpgrade(c);
  const target = new URL("https://topic.internal/subscribe");
  if (query.filter) target.searchParams.set("filter", query.filter);
  if (query.fromSeq !== undefined) target.searchParams.set("fromSeq", String(query.fromSeq));
  const res = await topicObject(c.env, topic).fetch(
    new Request(target, { headers: { upgrade: "websocket" } }),
  );
  return res.webSocket ? relaySocket(res.webSocket, subscriberRules) : res;
}

/** The event bus operations: routes at `/v1/topics`, methods of `env.SWITCHYARD.topics()`. */
export const busOperations = {
  publish: declare({
    access: { capability: "topics", action: "write", catalog: true },
    route: {
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
    rpc: ["topic", "body"],
    call: (env, { params, body }) => topicObject(env, params.topic).publish(body),
  }),

  createSubscription: declare({
    access: { capability: "topics", action: "admin", catalog: true },
    route: {
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
    rpc: ["topic", "body"],
    call: (env, { params, body }) => topicObject(env, params.topic).createSubscription(body),
  }),

  listSubscriptions: declare({
    access: { capability: "topics", action: "read" },
    route: {
      operationId: "listSubscriptions",
      method: "get",
      path: "/{topic}/subscriptions",
      tags,
      summary: "List webhook subscriptions (without secrets)",
      request: { params },
      responses: { 200: jsonResponse(SubscriptionList, "The subscriptions"), ...commonErrors },
    },
    rpc: ["topic"],
    call: async (env, { params }) => ok(await topicObject(env, params.topic).listSubscriptions()),
    json: (subscriptions) => ({ subscriptions }),
  }),

  deleteSubscription: declare({
    access: { capability: "topics", action: "admin" },
    route: {
      operationId: "deleteSubscription",
      method: "delete",
      path: "/{topic}/subscriptions/{id}",
      tags,
      summary: "Remove a subscription, its pending deliveries and dead letters",
      request: { params: subscriptionParams },
      responses: { 200: jsonResponse(Deleted, "Deleted"), ...notFound, ...commonErrors },
    },
    rpc: ["topic", "id"],
    call: (env, { params }) => topicObject(env, params.topic).deleteSubscription(params.id),
  }),

  resumeSubscription: declare({
    access: { capability: "topics", action: "admin" },
    route: {
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
    rpc: ["topic", "id"],
    call: (env, { params }) => topicObject(env, params.topic).resumeSubscription(params.id),
  }),

  pauseSubscription: declare({
    access: { capability: "topics", action: "admin" },
    route: {
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
    rpc: ["topic", "id"],
    call: (env, { params }) => topicObject(env, params.topic).pauseSubscription(params.id),
  }),

  deadLetters: declare({
    access: { capability: "topics", action: "read" },
    route: {
      operationId: "listDeadLetters",
      method: "get",
      path: "/{topic}/subscriptions/{id}/dead-letters",
      tags,
      summary: "Events a subscription gave up on, oldest first",
      description: "A page stops at `limit` or at 8 MiB of event text; `cursor` continues it.",
      request: { params: subscriptionParams, query: DeadLettersQuery },
      responses: { 200: jsonResponse(DeadLetterList, "Dead letters"), ...notFound, ...commonErrors },
    },
    rpc: ["topic", "id", "query"],
    call: (env, { params, query }) => topicObject(env, params.topic).deadLetters(params.id, query),
  }),

  redriveDeadLetters: declare({
    access: { capability: "topics", action: "admin" },
    route: {
      operationId: "redriveDeadLetters",
      method: "post",
      path: "/{topic}/subscriptions/{id}/dead-letters/redrive",
      tags,
      summary: "Deliver dead letters again (the listed seqs, or all), with their attempts reset",
      description:
        "Moves the dead letters back to the subscription's pending deliveries, due at once and sent in priority order like any delivery, with `maxAttempts` attempts again. Seqs that are not dead letters of the subscription are skipped (not counted). Never refused for backpressure: redriven deliveries count as pending, so publishes may get 429 until they drain. A paused subscription stays paused: each redriven event gets one attempt; a success resumes the subscription, a failure dead-letters the event again (resume first to give them every attempt).",
      request: {
        params: subscriptionParams,
        body: { ...jsonBody(DeadLetterRedriveRequest), required: false },
      },
      responses: {
        200: jsonResponse(DeadLettersRedriven, "How many dead letters are pending again"),
        ...notFound,
        ...commonErrors,
      },
    },
    rpc: ["topic", "id", "body"],
    call: (env, { params, body }) => topicObject(env, params.topic).redriveDeadLetters(params.id, body.seqs),
  }),

  subscribe: declareUpgrade({
    access: { capability: "topics", action: "read", queryToken: true },
    route: {
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
    upgrade: (c, { params, query }) => subscribe(c, params.topic, query),
  }),

  events: declare({
    access: { capability: "topics", action: "read" },
    route: {
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
    rpc: ["topic", "query"],
    call: async (env, { params, query }) => ok(await topicObject(env, params.topic).events(query)),
  }),

  stats: declare({
    access: { capability: "topics", action: "read" },
    route: {
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
    rpc: ["topic"],
    call: async (env, { params }) => ok(await topicObject(env, params.topic).stats()),
  }),

  getConfig: declare({
    access: { capability: "topics", action: "read" },
    route: {
      operationId: "getTopicConfig",
      method: "get",
      path: "/{topic}/config",
      tags,
      summary: "The topic's limits",
      request: { params },
      responses: { 200: jsonResponse(TopicConfig, "Settings"), ...commonErrors },
    },
    call: async (env, { params }) => ok(await topicObject(env, params.topic).getConfig()),
  }),

  configure: declare({
    access: { capability: "topics", action: "admin" },
    route: {
      operationId: "setTopicConfig",
      method: "put",
      path: "/{topic}/config",
      tags,
      summary: "Change the topic's limits (fields left out keep their value)",
      request: { params, body: jsonBody(TopicConfigPatch) },
      responses: { 200: jsonResponse(TopicConfig, "Settings now in force"), ...commonErrors },
    },
    rpc: ["topic", "body"],
    call: async (env, { params, body }) => ok(await topicObject(env, params.topic).setConfig(body)),
  }),
};
