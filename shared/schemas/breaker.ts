/** Request and response schemas of `/v1/breakers/{name}`. */
import { z } from "@hono/zod-openapi";
import { int } from "./common.ts";

const StateName = z
  .enum(["closed", "open", "half_open"])
  .openapi({ description: "closed: calls go; open: refused; half_open: a few probes go", example: "closed" });

/** How long until the breaker's state lets a call go; present only while it does not. */
const retryAfterMs = (description: string) => z.number().int().optional().openapi({ description });

export const BreakerConfig = z
  .strictObject({
    consecutiveFailures: int(1, 1000).default(5).openapi({ description: "Failures in a row that open it" }),
    failureRate: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .openapi({ description: "Share of failed (or slow) calls in the window that opens it", example: 0.5 }),
    minimumCalls: int(1, 10_000)
      .default(10)
      .openapi({ description: "Calls in the window before a rate counts" }),
    windowMs: int(1_000, 3_600_000).default(60_000).openapi({ description: "Length of the sliding window" }),
    slowCallMs: int(1, 3_600_000)
      .optional()
      .openapi({ description: "A call at least this slow counts towards failureRate" }),
    openMs: int(100, 3_600_000).default(30_000).openapi({ description: "Cool-down before half-open" }),
    halfOpenProbes: int(1, 100)
      .default(1)
      .openapi({ description: "Probes at once in half-open, and successes that close it" }),
  })
  .openapi("BreakerConfig");

export const Acquired = z
  .object({
    state: StateName,
    allowed: z.boolean(),
    retryAfterMs: retryAfterMs("When refused: how long until a call may go"),
  })
  .openapi("BreakerAcquired");

export const Outcome = z
  .strictObject({
    ok: z.boolean().openapi({ description: "Did the call succeed?" }),
    latencyMs: int(0, 86_400_000)
      .optional()
      .openapi({ description: "How long it took, for slow-call detection" }),
  })
  .openapi("BreakerOutcome");

/** An addition to the contract: many outcomes in one request, as the client-side shared breaker sends them. */
export const OutcomeBatch = z
  .strictObject({ outcomes: z.array(Outcome).min(1).max(1_000) })
  .openapi("BreakerOutcomeBatch");

export const Recorded = z
  .object({
    state: StateName,
    retryAfterMs: retryAfterMs("An addition to the contract: when open, how long until half-open"),
  })
  .openapi("BreakerRecorded");

export const Counters = z
  .object({
    calls: z.number().int().openapi({ description: "Outcomes recorded" }),
    failures: z.number().int(),
    rejected: z.number().int().openapi({ description: "Acquires refused" }),
    opened: z.number().int().openapi({ description: "Times it opened" }),
  })
  .openapi("BreakerCounters");

export const BreakerInfo = z
  .object({ state: StateName, config: BreakerConfig, counters: Counters })
  .openapi("BreakerInfo");

export type BreakerSettings = z.infer<typeof BreakerConfig>;
export type BreakerAcquired = z.infer<typeof Acquired>;
export type BreakerOutcome = z.infer<typeof Outcome>;
export type BreakerRecorded = z.infer<typeof Recorded>;
export type BreakerInfo = z.infer<typeof BreakerInfo>;
