/** Schemas of a queue's schedules: `/v1/queues/{queue}/schedules` and `.../schedules/{name}`. */
import { z } from "@hono/zod-openapi";
import { PRIORITIES } from "../../durable-objects/logic/queue-rules.ts";
import { cronProblem, MISSED_POLICIES, zoneProblem } from "../../durable-objects/logic/schedule-rules.ts";
import { int, NAME_PATTERN, nextCursor, type Sent } from "./common.ts";
import { type JsonValue, MAX_DELAY_MS, pageQueryFields, TaskInput } from "./queue.ts";

/** The longest interval of an `everyMs` schedule: 30 days (a cron covers longer cadences). */
export const MAX_INTERVAL_MS = MAX_DELAY_MS;
/** How many upcoming run times a schedule's own answers carry. */
export const NEXT_RUNS = 5;

export const ScheduleName = z
  .string()
  .regex(NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
  .openapi({ param: { name: "name", in: "path" }, description: "Schedule name", example: "nightly-report" });

/** What each run enqueues: a task's payload, priority and attempts (its dedup key is derived). */
export const ScheduledTask = TaskInput.pick({ payload: true, priority: true, maxAttempts: true }).openapi(
  "ScheduledTask",
);

/**
 * `PUT .../schedules/{name}`: a cron expression (with an IANA zone, UTC by default) or a fixed
 * interval, never both; the task each run enqueues; what to do with runs missed while the queue
 * could not run them.
 */
export const ScheduleRequest = z
  .strictObject({
    cron: z.string().min(1).max(256).optional().openapi({
      description:
        "A cron expression of 5 fields (minute precision) or 6 (seconds first), or a nickname such as `@daily`; parsed by croner",
      example: "0 9 * * 1-5",
    }),
    timezone: z.string().min(1).max(64).optional().openapi({
      description: "The IANA time zone the cron expression is read in (only with `cron`); default UTC",
      example: "Europe/Berlin",
    }),
    everyMs: int(1_000, MAX_INTERVAL_MS).optional().openapi({
      description: "A fixed interval instead of a cron expression, counted from the (re)creation",
    }),
    task: ScheduledTask,
    missed: z.enum(MISSED_POLICIES).default("skip").openapi({
      description:
        "Runs missed while the queue could not run them (more than a minute late): `skip` drops them, `once` makes one run for all of them",
    }),
  })
  .superRefine((s, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (s.cron !== undefined && s.everyMs !== undefined) issue("everyMs", "give cron or everyMs, not both");
    else if (s.cron === undefined && s.everyMs === undefined) issue("cron", "give cron or everyMs");
    else if (s.cron === undefined && s.timezone !== undefined) issue("timezone", "only with cron");
    else if (s.cron !== undefined) {
      const zone = s.timezone === undefined ? undefined : zoneProblem(s.timezone);
      const cron = zone === undefined ? cronProblem(s.cron, s.timezone ?? "UTC") : undefined;
      if (zone !== undefined) issue("timezone", zone);
      else if (cron !== undefined) issue("cron", cron);
    }
  })
  .openapi("ScheduleRequest");

const Instant = z.number().int();

export const ScheduleInfo = z
  .object({
    name: z.string(),
    cron: z.string().optional(),
    timezone: z.string().optional().openapi({ description: "Present with `cron`" }),
    everyMs: z.number().int().optional(),
    task: z.object({
      payload: z.unknown().openapi({ description: "Any JSON value" }) as unknown as z.ZodType<JsonValue>,
      priority: z.enum(PRIORITIES),
      maxAttempts: z.number().int(),
    }),
    missed: z.enum(MISSED_POLICIES),
    paused: z.boolean(),
    createdAt: Instant,
    updatedAt: Instant.openapi({ description: "When it was last replaced, paused or resumed" }),
    nextRunAt: Instant.nullable().openapi({
      description: "The next run; null while paused or when none is left",
    }),
    lastRunAt: Instant.nullable().openapi({
      description: "The instant of the last run that enqueued a task",
    }),
    lastTaskId: z.string().nullable().openapi({ description: "The task the last run enqueued" }),
    runs: z.number().int().openapi({ description: "Runs that enqueued a task so far" }),
    nextRuns: z
      .array(Instant)
      .optional()
      .openapi({ description: `The next ${NEXT_RUNS} run times (not in lists); empty while paused` }),
  })
  .openapi("Schedule");

export const ScheduleListQuery = z.object(pageQueryFields(128));

export const SchedulePage = z
  .object({ schedules: z.array(ScheduleInfo), cursor: nextCursor() })
  .openapi("SchedulePage");

export const ScheduleDeleted = z.object({ deleted: z.literal(true) }).openapi("ScheduleDeleted");

export type ScheduleInput = z.output<typeof ScheduleRequest>;
export type ScheduleRequestInput = z.input<typeof ScheduleRequest>;
export type ScheduleInfo = z.output<typeof ScheduleInfo>;
export type SchedulePage = z.output<typeof SchedulePage>;
export type ScheduleListInput = z.output<typeof ScheduleListQuery>;
export type ScheduleListRequest = Sent<typeof ScheduleListQuery>;
