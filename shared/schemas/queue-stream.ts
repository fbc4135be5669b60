/**
 * Schemas of the queue's streaming consumers (`GET /v1/queues/{queue}/consume`, a WebSocket) and of
 * the operator controls (pause, resume, delete).
 */
import { z } from "@hono/zod-openapi";
import { queryIntOr, TokenQuery } from "./common.ts";
import { AckBatchRequest, ExtendRequest, type LeasedTask, NackRequest } from "./queue.ts";
import { type LogsOutput, LogsRequest, type ProgressOutput, ProgressRequest } from "./queue-progress.ts";

/** Most tasks a socket may hold unacknowledged. */
export const MAX_PREFETCH = 1000;

export const ConsumeQuery = z.object({
  prefetch: queryIntOr(1, MAX_PREFETCH, 100).openapi({
    description: "Most pushed tasks the socket holds at once, not yet acked, nacked or expired",
  }),
  visibilityMs: queryIntOr(1_000, 43_200_000, 30_000).openapi({
    description: "The lease time of every pushed task",
  }),
  token: TokenQuery,
});

/** `{"type": "ack", "acks": [...]}`: as `POST /v1/queues/{queue}/ack`. */
export const AckMessage = z.strictObject({ type: z.literal("ack"), acks: AckBatchRequest.shape.acks });
/** `{"type": "nack", "id", "leaseId", ...}`: as `POST .../tasks/{id}/nack`. */
export const NackMessage = NackRequest.extend({ type: z.literal("nack"), id: z.string().min(1).max(64) });
/** `{"type": "extend", "id", "leaseId", "visibilityMs"}`: as `POST .../tasks/{id}/extend`. */
export const ExtendMessage = ExtendRequest.extend({
  type: z.literal("extend"),
  id: z.string().min(1).max(64),
});

/** `{"type": "progress", "id", "leaseId", "progress"}`: as `POST .../tasks/{id}/progress`. */
export const ProgressMessage = ProgressRequest.extend({
  type: z.literal("progress"),
  id: z.string().min(1).max(64),
});
/** `{"type": "log", "id", "leaseId", "lines"}`: as `POST .../tasks/{id}/logs`. */
export const LogMessage = LogsRequest.extend({ type: z.literal("log"), id: z.string().min(1).max(64) });

/** What a consumer may send; the `type` picks the schema (see {@link consumerMessageSchema}). */
export const CONSUMER_MESSAGES = {
  ack: AckMessage,
  nack: NackMessage,
  extend: ExtendMessage,
  progress: ProgressMessage,
  log: LogMessage,
} as const;
export type ConsumerMessage = z.output<(typeof CONSUMER_MESSAGES)[keyof typeof CONSUMER_MESSAGES]>;

/** What the server pushes: tasks, answers in the order of the messages, errors. */
export type ServerMessage =
  | { type: "tasks"; tasks: LeasedTask[] }
  | { type: "acked"; results: Array<{ id: string; ok: boolean; code?: string }> }
  | { type: "nacked"; id: string; state: "ready" | "delayed" | "dead"; nextAttemptAt?: number }
  | { type: "extended"; id: string; leaseExpiresAt: number }
  | ({ type: "progressed" } & ProgressOutput)
  | ({ type: "logged" } & LogsOutput)
  | {
      type: "error";
      id?: string;
      error: { code: string; message: string; details?: Record<string, unknown> };
    };

export const Paused = z
  .object({ paused: z.boolean().openapi({ description: "Whether leases and pushes hand out nothing" }) })
  .openapi("QueuePaused");

export const QueueDeleted = z.object({ deleted: z.literal(true) }).openapi("QueueDeleted");

/** The consume query as a caller writes it. */
export type ConsumeRequest = { prefetch?: number; visibilityMs?: number };
