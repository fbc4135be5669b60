/** Request and response schemas of `/v1/topics/{topic}`. */
import { z } from "@hono/zod-openapi";
import { patternProblem } from "../../durable-objects/logic/filter.ts";
import { int, nextCursor, queryCursor, queryIntOr, replayFrom, TokenQuery } from "./common.ts";
import { BY_URGENCY } from "./priority.ts";

/** Most events in one publish. */
export const MAX_BATCH = 500;

/** Most patterns in one filter. */
export const MAX_FILTER_PATTERNS = 32;

const EventType = z.string().min(1).max(128).openapi({ example: "order.created" });

const Priority = z.enum(BY_URGENCY).default("normal").openapi({
  description: "Dispatch order: critical, high, normal, low. `critical` implies `critical: true`.",
});

const eventFields = {
  type: EventType,
  data: z
    .unknown()
    .optional()
    .openapi({ description: "Any JSON value (null when absent)", example: { id: 42 } }),
  priority: Priority,
  critical: z.boolean().default(false).openapi({
    description: "Never dropped: retried past maxAttempts and re-sent to WebSockets until acked",
  }),
};

/** One event to publish. */
export const EventInput = z.strictObject(eventFields).openapi("EventInput");

/**
 * One event, or `{"events": [...]}` with 1 to 500 of them. One flat object rather than a union,
 * so that a mistake is reported against the field that caused it.
 */
export const PublishRequest = z
  .strictObject({
    ...eventFields,
    type: EventType.optional(),
    events: z.array(EventInput).min(1).max(MAX_BATCH).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.events === undefined && v.type === undefined) {
      ctx.addIssue({ code: "custom", path: ["type"], message: "required (or send {events: [...]})" });
    }
    if (v.events !== undefined && v.type !== undefined) {
      ctx.addIssue({ code: "custom", path: ["events"], message: "send one event or {events}, not both" });
    }
  })
  .openapi("PublishRequest");

/** A filter pattern: `*` matches one dot-separated segment, a trailing `>` the rest. */
export const FilterPattern = z
  .string()
  .superRefine((p, ctx) => {
    const problem = patternProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({ example: "order.*" });

const Filter = z.array(FilterPattern).max(MAX_FILTER_PATTERNS);

export const RetryOptions = z
  .strictObject({
    initialDelayMs: int(10, 3_600_000).default(5_000),
    maxDelayMs: int(10, 86_400_000).default(3_600_000),
  })
  .openapi("RetryOptions", {
    description: "Exponential backoff (doubling, equal jitter) between attempts. Defaults: 5 s up to 1 h.",
  });

/** Longest Redis stream or channel name a subscription may name. */
export const MAX_REDIS_NAME = 256;

/** A Redis target: a stream (`XADD`, exactly once) or a pub/sub channel (`PUBLISH`, at least once). */
export const RedisTarget = z
  .strictObject({
    stream: z.string().min(1).max(MAX_REDIS_NAME).optional().openapi({ example: "orders" }),
    maxLen: int(1, 10_000_000)
      .optional()
      .openapi({ description: "Approximate MAXLEN trim of the stream on each XADD" }),
    channel: z.string().min(1).max(MAX_REDIS_NAME).optional().openapi({ example: "orders-live" }),
  })
  .superRefine((v, ctx) => {
    if ((v.stream === undefined) === (v.channel === undefined)) {
      const path = v.stream === undefined ? ["stream"] : ["channel"];
      ctx.addIssue({ code: "custom", path, message: "give exactly one of stream and channel" });
    }
    if (v.maxLen !== undefined && v.stream === undefined) {
      ctx.addIssue({ code: "custom", path: ["maxLen"], message: "maxLen applies to a stream only" });
    }
  })
  .openapi("RedisTarget", {
    description:
      "`{stream, maxLen?}` appends each event with XADD, never twice; `{channel}` PUBLISHes the envelope (at least once).",
  });

export const SubscriptionRequest = z
  .strictObject({
    url: z.string().min(1).max(2048).optional().openapi({ example: "https://example.com/hooks/orders" }),
    redis: RedisTarget.optional(),
    filter: Filter.optional().openapi({ description: "Event types to deliver; absent or empty: all" }),
    maxAttempts: int(1, 50).default(10),
    retry: RetryOptions.optional(),
    timeoutMs: int(100, 30_000)
      .default(10_000)
      .openapi({ description: "A slower answer counts as a failure" }),
  })
  .superRefine((v, ctx) => {
    // Exactly one target; the issue names the field to add (neither) or to drop (both).
    if (v.url === undefined && v.redis === undefined) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "give exactly one of url and redis" });
    } else if (v.url !== undefined && v.redis !== undefined) {
      ctx.addIssue({ code: "custom", path: ["redis"], message: "give exactly one of url and redis" });
    }
  })
  .openapi("SubscriptionRequest", {
    description: "A webhook (`url`) or a Redis target (`redis`), not both.",
  });

export const SubscriptionCreated = z
  .object({
    id: z.string(),
    secret: z.string().optional().openapi({
      description: "whsec_… — shown only once; webhooks only (a Redis target has none)",
      example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }),
  })
  .openapi("SubscriptionCreated");

/** A receiver's health, as the listing and the stats show it (issue 17). */
const receiverFields = {
  receiver: z.enum(["up", "down"]).openapi({
    description:
      "`down` after 3 failures in a row that say the receiver is unreachable (no connection, DNS, timeout, 502/503/504): its backlog then waits and one pending delivery at a time goes out as a probe, at most 15 s apart; the first success makes it `up` again",
  }),
  nextProbeAt: z
    .number()
    .int()
    .optional()
    .openapi({ description: "While `down`: when the next probe goes out (epoch ms)" }),
};

export const Subscription = z
  .object({
    id: z.string(),
    url: z.string().optional().openapi({ description: "A webhook's URL" }),
    redis: z
      .object({
        stream: z.string().optional(),
        maxLen: z.number().int().optional(),
        channel: z.string().optional(),
      })
      .optional()
      .openapi({ description: "A Redis target, as created" }),
    filter: z.array(z.string()),
    maxAttempts: z.number().int(),
    retry: z.object({ initialDelayMs: z.number().int(), maxDelayMs: z.number().int() }),
    timeoutMs: z.number().int(),
    paused: z.boolean().openapi({
      description: "Paused by hand or after 5 dead letters in a row; resumes on a delivery or `resume`",
    }),
    createdAt: z.number().int(),
    ...receiverFields,
  })
  .openapi("Subscription");

export const SubscriptionList = z
  .object({ subscriptions: z.array(Subscription) })
  .openapi("SubscriptionList");

export const Deleted = z.object({ deleted: z.literal(true) }).openapi("SubscriptionDeleted");

/** An event as webhooks, WebSockets and the pull API carry it. */
export const BusEvent = z
  .object({
    id: z.string(),
    topic: z.string(),
    type: z.string(),
    data: z.unknown(),
    seq: z.number().int(),
    priority: z.enum(BY_URGENCY),
    critical: z.boolean(),
    publishedAt: z.number().int(),
  })
  .openapi("BusEvent");

export const Published = z
  .object({ ids: z.array(z.string()), seqs: z.array(z.number().int()) })
  .openapi("Published");

/**
 * A filter in a query string: comma-separated patterns, or the parameter repeated (as Python's
 * requests and many other clients send a list), which reads as the same patterns joined by commas.
 */
const FilterQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((raw) => (typeof raw === "string" ? raw : raw.join(",")))
  .pipe(
    z
      .string()
      .max(4096)
      .superRefine((raw, ctx) => {
        for (const p of splitFilter(raw)) {
          const problem = patternProblem(p);
          if (problem) ctx.addIssue({ code: "custom", message: `${p}: ${problem}` });
        }
      }),
  )
  .optional()
  .openapi({
    description:
      "Comma-separated patterns (`order.*,invoice.>`), or the parameter repeated once per pattern; at most 4096 characters in all",
    example: "order.*",
  });

export const EventsQuery = z.object({
  fromSeq: queryIntOr(0, Number.MAX_SAFE_INTEGER, 0).openapi({
    description: "First seq to return (default: the oldest retained)",
  }),
  limit: queryIntOr(1, 1000, 100),
  filter: FilterQuery,
});

export const EventsPage = z
  .object({
    events: z.array(BusEvent),
    nextSeq: z.number().int().openapi({
      description:
        "Where to read from next. A page stops at `limit` events or at 8 MiB of event text, whichever comes first (with at least one event)",
    }),
  })
  .openapi("EventsPage");

export const SubscribeQuery = z.object({
  filter: FilterQuery,
  fromSeq: replayFrom("Replay retained events from this seq first"),
  token: TokenQuery,
});

export const TopicStats = z
  .object({
    published: z.number().int(),
    delivered: z.number().int(),
    failed: z.number().int(),
    rejected: z.number().int(),
    pending: z.number().int(),
    subscriptions: z.array(
      z.object({
        id: z.string(),
        pending: z.number().int(),
        lastSeqDelivered: z.number().int(),
        deadLetters: z.number().int(),
        ...receiverFields,
      }),
    ),
  })
  .openapi("TopicStats");

/** The ceiling on a topic's undelivered event text, and its default: 1 GiB. */
export const MAX_UNDELIVERED_BYTES = 1024 ** 3;

const configFields = {
  maxUndelivered: int(1, 1_000_000).openapi({
    description: "Backpressure limit on pending deliveries (10000)",
  }),
  retentionMs: int(60_000, 7 * 86_400_000).openapi({ description: "How long events stay for replay (24 h)" }),
  maxRetained: int(1, 1_000_000).openapi({ description: "Most events kept for replay (100000)" }),
  maxInFlight: int(1, 64).openapi({ description: "Most webhook requests in flight for the topic (8)" }),
  maxUndeliveredBytes: int(1, MAX_UNDELIVERED_BYTES).openapi({
    description:
      "Hard ceiling on the event text (bytes of `data`, once per pending delivery) waiting for delivery; a publish that would pass it gets 429 `backpressure` with `details.reason` `storage`, critical events included (1 GiB)",
  }),
};

/** A topic's settings, all with defaults. */
export const TopicConfig = z.object(configFields).openapi("TopicConfig");

/** A change to a topic's settings: the fields given replace the current ones. */
export const TopicConfigPatch = z.strictObject(configFields).partial().openapi("TopicConfigPatch");

/** The settings of a topic nobody configured. */
export const DEFAULT_TOPIC_CONFIG: TopicConfigValue = {
  maxUndelivered: 10_000,
  retentionMs: 86_400_000,
  maxRetained: 100_000,
  maxInFlight: 8,
  maxUndeliveredBytes: MAX_UNDELIVERED_BYTES,
};

export const DeadLetter = z
  .object({
    event: BusEvent,
    attempts: z.number().int().openapi({
      description:
        "Attempts that counted toward maxAttempts (a receiver that was down costs none; 0 when a pause dead-lettered an event whose tries all met a down receiver)",
    }),
    lastError: z.string(),
    deadAt: z.number().int(),
  })
  .openapi("DeadLetter");

export const DeadLetterList = z
  .object({
    deadLetters: z.array(DeadLetter),
    cursor: nextCursor(
      "Pass it back as `cursor` for the next page; null at the end. A page stops at `limit` or at 8 MiB of event text, whichever comes first (with at least one dead letter)",
    ),
  })
  .openapi("DeadLetterList");

export const DeadLettersQuery = z.object({
  limit: queryIntOr(1, 1000, 100),
  cursor: queryCursor(z.string().regex(/^\d{1,16}$/, "not a cursor from this API")),
});

/** Most dead letters one redrive names. */
export const MAX_REDRIVE_SEQS = 1000;

export const DeadLetterRedriveRequest = z
  .strictObject({
    seqs: z
      .array(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER))
      .max(MAX_REDRIVE_SEQS)
      .optional()
      .openapi({
        description:
          "Seqs of the dead letters to redrive; all of them when absent, none when empty. Seqs that are not dead letters of the subscription are skipped.",
        example: [3, 7],
      }),
  })
  .openapi("DeadLetterRedriveRequest");

export const DeadLettersRedriven = z
  .object({ redriven: z.number().int().openapi({ description: "Dead letters now pending again" }) })
  .openapi("DeadLettersRedriven");

/** The patterns of a comma-separated filter, blanks dropped. */
export function splitFilter(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** The events of a publish request, whichever form it took. */
export function eventsOf(req: PublishInput): EventInputValue[] {
  if (req.events) return req.events;
  return [{ type: req.type as string, data: req.data, priority: req.priority, critical: req.critical }];
}

export type EventInputValue = z.infer<typeof EventInput>;
export type PublishInput = z.infer<typeof PublishRequest>;
export type SubscriptionInput = z.infer<typeof SubscriptionRequest>;
export type RedisTargetValue = z.infer<typeof RedisTarget>;
export type SubscriptionInfo = z.infer<typeof Subscription>;
export type BusEventValue = z.infer<typeof BusEvent>;
export type PublishResult = z.infer<typeof Published>;
export type EventsQueryInput = z.infer<typeof EventsQuery>;
export type EventsPageValue = z.infer<typeof EventsPage>;
export type TopicStatsValue = z.infer<typeof TopicStats>;
export type TopicConfigValue = z.infer<typeof TopicConfig>;
export type TopicConfigPatchValue = z.infer<typeof TopicConfigPatch>;
export type DeadLetterValue = z.infer<typeof DeadLetter>;
export type DeadLetterPage = z.infer<typeof DeadLetterList>;
export type DeadLettersQueryInput = z.infer<typeof DeadLettersQuery>;
