/**
 * Progress and log lines of a leased task (`POST /v1/queues/{queue}/tasks/{id}/progress` and
 * `.../logs`): what the lease holder sends and what it is answered. The sizes are checked in the
 * queue object, which refuses a too-large field with `413 payload_too_large` as it does payloads.
 */
import { z } from "@hono/zod-openapi";
import { Instant, Json, LeaseId } from "./queue.ts";

/** Most bytes of a task's progress, as JSON text (UTF-8). */
export const MAX_PROGRESS_BYTES = 4 * 1024;
/** Most bytes (UTF-8) of one log line. */
export const MAX_LOG_LINE_BYTES = 1024;
/** Most lines one request appends. */
export const MAX_LOG_LINES_PER_CALL = 100;
/** Most lines a task keeps: the newest; older ones are dropped and counted. */
export const MAX_LOG_LINES_KEPT = 100;

export const ProgressRequest = z
  .strictObject({
    leaseId: LeaseId,
    progress: Json.openapi({
      description: `Any JSON value, at most ${MAX_PROGRESS_BYTES} bytes as JSON text; replaces the last one`,
    }),
  })
  .openapi("ProgressRequest");

export const ProgressReported = z
  .object({ id: z.string(), progressAt: Instant.openapi({ description: "When the queue stored it" }) })
  .openapi("ProgressReported");

export const LogsRequest = z
  .strictObject({
    leaseId: LeaseId,
    lines: z
      .array(z.string())
      .min(1)
      .max(MAX_LOG_LINES_PER_CALL)
      .openapi({ description: `Lines to append, each at most ${MAX_LOG_LINE_BYTES} bytes of UTF-8` }),
  })
  .openapi("LogsRequest");

const Count = z.number().int();

export const LogsAppended = z
  .object({
    id: z.string(),
    appended: Count.openapi({ description: "Lines this request added" }),
    kept: Count.openapi({ description: `Lines the task keeps now (at most ${MAX_LOG_LINES_KEPT})` }),
    dropped: Count.openapi({ description: "Older lines dropped so far to keep the newest" }),
  })
  .openapi("LogsAppended");

export type ProgressInput = z.output<typeof ProgressRequest>;
export type ProgressOutput = z.output<typeof ProgressReported>;
export type LogsInput = z.output<typeof LogsRequest>;
export type LogsOutput = z.output<typeof LogsAppended>;
