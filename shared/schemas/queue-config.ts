/** Schemas of a queue's lease limits: `PUT`/`GET /v1/queues/{queue}/config`. */
import { z } from "@hono/zod-openapi";
import { int } from "./common.ts";

export const MAX_LEASE_LIMIT = 100_000;

export const LeaseRate = z
  .strictObject({
    leases: int(1, MAX_LEASE_LIMIT).openapi({ description: "Most tasks leased per period" }),
    periodMs: int(1_000, 86_400_000),
  })
  .openapi("LeaseRate");

/** `PUT .../config`: an absent field stays as it is, null removes that limit. */
export const QueueConfigRequest = z
  .strictObject({
    rateLimit: LeaseRate.nullable().optional().openapi({
      description:
        "At most `leases` tasks leased (HTTP leases and streaming pushes together) in any window of `periodMs`; null removes it",
    }),
    maxLeased: int(1, MAX_LEASE_LIMIT).nullable().optional().openapi({
      description: "At most this many tasks leased at once across every consumer; null removes it",
    }),
  })
  .openapi("QueueConfigRequest");

export const QueueConfig = z
  .object({
    rateLimit: z
      .object({ leases: z.number().int(), periodMs: z.number().int() })
      .nullable()
      .openapi({ description: "null: no rate limit" }),
    maxLeased: z.number().int().nullable().openapi({ description: "null: no concurrency limit" }),
  })
  .openapi("QueueConfig");

export type QueueConfigRequestInput = z.input<typeof QueueConfigRequest>;
export type QueueConfig = z.output<typeof QueueConfig>;
