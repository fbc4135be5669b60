/** `/v1/topics/{topic}`: every event bus operation, declared once (see workers/declare/table.ts). */
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  ackFrame,
  BAD_TOPIC_MESSAGE,
  PONG,
  topicClientMessage,
} from "../../durable-objects/logic/topic-messages.ts";
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import { redisConfigProblem } from "../../shared/redis/config.ts";
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
  jsonResponse,
  NameParam,
  PathId,
} from "../../shared/schemas/common.ts";
import { firstOversized, oneOrEach } from "../declare/body-values.ts";
import { declareFor, optionalBody } from "../declare/declare-for.ts";
import type { AppEnv } from "../http/router.ts";
import { admitSocket } from "../http/socket-admission.ts";
import { type RelayRules, relayToObject } from "../http/socket-relay.ts";
import { requireWebSocketUpgrade } from "../http/upgrade.ts";

const topics = declareFor({
  capability: "topics",
  tags: ["Event bus"],
  params: {
    topic: NameParam("Topic name").openapi({ param: { name: "topic", in: "path" } }),
    id: PathId({ example: "sub_3f1c0e5b9a7d4c2e8f6a1b0c9d8e7f6a" }),
  },
});
const topicObject = (env: Env, topic: string) => env.TOPICS.getByName(topic);
const notFound = { 404: errorResponse("No such subscription") };

/** What a subscriber may send: acks go on to the object, pings are answered by the relay. */
const subscriberRules: RelayRules = {
  route: "topic",
  classify(frame) {
    const message = topicClientMessage(frame);
    if (message?.type === "ack") return { forward: ackFrame(message.seq) };
    if (message?.type === "ping") return { answer: PONG };
    return { bad: BAD_TOPIC_MESSAGE };
  },
};

/**
 * Opens a socket to the topic's object, which holds the subscribers (hibernatable), and relays the
 * client to it through the Worker, so that the object never receives a client's bad frames. A
 * caller cooling down after such a socket is refused before any socket is made.
 */
async function subscribe(
  c: Context<AppEnv>,
  topic: string,
  query: z.output<typeof SubscribeQuery>,
): Promise<Response> {
  requireWebSocketUpgrade(c);
  const admission = await admitSocket(c, subscriberRules.route, topic);
  const target = new URL("https://topic.internal/subscribe");
  if (query.filter) target.searchParams.set("filter", query.filter);
  if (query.fromSeq !== undefined) target.searchParams.set("fromSeq", String(query.fromSeq));
  return relayToObject(topicObject(c.env, topic), target, subscriberRules, admission);
}

/** The event bus operations: routes at `/v1/topics`, methods of `env.SWITCHYARD.topics()`. */
export const busOperations = {
  publish: topics.write("publishEvents", "POST /{topic}/events", {
    catalog: true,
    summary: "Publish one event or a batch of up to 500",
    description:
      "Each event gets the next `seq` of the topic. When the topic's undelivered deliveries reach its limit, non-critical publishes get 429 with `Retry-After`; critical events are always accepted. A batch is accepted or refused whole.",
    body: PublishRequest,
    responses: {
      202: jsonResponse(Published, "Accepted: ids and seqs in the order given"),
      429: backpressureResponse("`backpressure`, with a `Retry-After` header in seconds"),
    },
    oversized: (body) => firstOversized(oneOrEach(body, "events", "data")),
    call: (env, { params, body }) => topicObject(env, params.topic).publish(body),
  }),

  createSubscription: topics.admin("createSubscription", "POST /{topic}/subscriptions", {
    catalog: true,
    summary: "Add a webhook subscription",
    description:
      "Webhooks follow the Standard Webhooks specification; the secret is returned once. URLs must be https and public (with `ALLOW_INSECURE_WEBHOOKS=true`, loopback over http too). Receives events published from now on.",
    body: SubscriptionRequest,
    responses: {
      201: jsonResponse(SubscriptionCreated, "Created"),
      409: errorResponse("`conflict`: the topic has 100 subscriptions"),
    },
    // A Redis target needs Redis (a webhook needs nothing).
    configured: (env, { body }) => (body.redis === undefined ? undefined : redisConfigProblem(env)),
    call: (env, { params, body }) => topicObject(env, params.topic).createSubscription(body),
  }),

  listSubscriptions: topics.read("listSubscriptions", "GET /{topic}/subscriptions", {
    summary: "List webhook subscriptions (without secrets)",
    responses: { 200: jsonResponse(SubscriptionList, "The subscriptions") },
    call: async (env, { params }) => ok(await topicObject(env, params.topic).listSubscriptions()),
    json: (subscriptions) => ({ subscriptions }),
  }),

  deleteSubscription: topics.admin("deleteSubscription", "DELETE /{topic}/subscriptions/{id}", {
    summary: "Remove a subscription, its pending deliveries and dead letters",
    responses: { 200: jsonResponse(Deleted, "Deleted"), ...notFound },
    call: (env, { params }) => topicObject(env, params.topic).deleteSubscription(params.id),
  }),

  resumeSubscription: topics.admin("resumeSubscription", "POST /{topic}/subscriptions/{id}/resume", {
    summary: "Resume a paused subscription",
    description:
      "Ends a pause, by hand or automatic (after 5 dead letters in a row); a successful delivery also resumes it. Also takes a receiver that is `down` as up again, so its backlog goes out at once.",
    responses: { 200: jsonResponse(Subscription, "Resumed"), ...notFound },
    call: (env, { params }) => topicObject(env, params.topic).resumeSubscription(params.id),
  }),

  pauseSubscription: topics.admin("pauseSubscription", "POST /{topic}/subscriptions/{id}/pause", {
    summary: "Pause a subscription by hand",
    description:
      "The same effect as the automatic pause: pending non-critical deliveries go to the dead letters (redrive them later), new non-critical events too; critical events keep being retried. `resume` ends it.",
    responses: { 200: jsonResponse(Subscription, "Paused"), ...notFound },
    call: (env, { params }) => topicObject(env, params.topic).pauseSubscription(params.id),
  }),

  deadLetters: topics.read("listDeadLetters", "GET /{topic}/subscriptions/{id}/dead-letters", {
    summary: "Events a subscription gave up on, oldest first",
    description: "A page stops at `limit` or at 8 MiB of event text; `cursor` continues it.",
    query: DeadLettersQuery,
    responses: { 200: jsonResponse(DeadLetterList, "Dead letters"), ...notFound },
    call: (env, { params, query }) => topicObject(env, params.topic).deadLetters(params.id, query),
  }),

  redriveDeadLetters: topics.admin(
    "redriveDeadLetters",
    "POST /{topic}/subscriptions/{id}/dead-letters/redrive",
    {
      summary: "Deliver dead letters again (the listed seqs, or all), with their attempts reset",
      description:
        "Moves the dead letters back to the subscription's pending deliveries, due at once and sent in priority order like any delivery, with `maxAttempts` attempts again. Seqs that are not dead letters of the subscription are skipped (not counted). Never refused for backpressure: redriven deliveries count as pending, so publishes may get 429 until they drain. A paused subscription stays paused: each redriven event gets one attempt; a success resumes the subscription, a failure dead-letters the event again (resume first to give them every attempt).",
      body: optionalBody(DeadLetterRedriveRequest),
      responses: {
        200: jsonResponse(DeadLettersRedriven, "How many dead letters are pending again"),
        ...notFound,
      },
      call: (env, { params, body }) =>
        topicObject(env, params.topic).redriveDeadLetters(params.id, body.seqs),
    },
  ),

  subscribe: topics.read.upgrade("subscribeTopic", "GET /{topic}/subscribe", {
    summary: "Subscribe over a WebSocket",
    description:
      'Send `Upgrade: websocket`. Messages: `{"type": "event", "event": {...}}`; answer `{"type": "ack", "seq"}` for critical events, which are re-sent every 10 s until acked. `fromSeq` replays retained events first. `{"type": "ping"}` gets `{"type": "pong"}`.',
    query: SubscribeQuery,
    responses: {
      400: errorResponse("Not a WebSocket upgrade, or a bad filter or fromSeq"),
      401: commonErrors[401],
    },
    commonErrors: false,
    upgrade: (c, { params, query }) => subscribe(c, params.topic, query),
  }),

  events: topics.read("listEvents", "GET /{topic}/events", {
    summary: "Read retained events from a seq on (pull consumers)",
    description:
      "A page stops at `limit` events or at 8 MiB of event text (with at least one event); read on from `nextSeq`.",
    query: EventsQuery,
    responses: { 200: jsonResponse(EventsPage, "Events and the seq to read from next") },
    call: async (env, { params, query }) => ok(await topicObject(env, params.topic).events(query)),
  }),

  stats: topics.read("getTopicStats", "GET /{topic}/stats", {
    summary: "Counters of the topic and of each subscription",
    description:
      "`delivered` and `failed` count webhook deliveries (one per event and subscription) that succeeded or went to dead letters (less those redriven since); `pending` counts those still to be made; `rejected` counts events refused by backpressure.",
    responses: { 200: jsonResponse(TopicStats, "Stats") },
    call: async (env, { params }) => ok(await topicObject(env, params.topic).stats()),
  }),

  getConfig: topics.read("getTopicConfig", "GET /{topic}/config", {
    summary: "The topic's limits",
    responses: { 200: jsonResponse(TopicConfig, "Settings") },
    rpc: false,
    call: async (env, { params }) => ok(await topicObject(env, params.topic).getConfig()),
  }),

  configure: topics.admin("setTopicConfig", "PUT /{topic}/config", {
    summary: "Change the topic's limits (fields left out keep their value)",
    body: TopicConfigPatch,
    responses: { 200: jsonResponse(TopicConfig, "Settings now in force") },
    call: async (env, { params, body }) => ok(await topicObject(env, params.topic).setConfig(body)),
  }),
};
