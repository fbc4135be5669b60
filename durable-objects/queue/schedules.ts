/**
 * A queue's schedules: their definitions in rows ({@link ScheduleStore}), the decisions of
 * `logic/schedule-rules.ts`, and their JSON answers. The queue object runs every call inside its
 * transaction and enqueues the runs; its one alarm covers the earliest next run ({@link earliest}).
 */
import { asJsonText, type JsonText, rawArray, withRawMembers } from "../../shared/json-text.ts";
import {
  NEXT_RUNS,
  type ScheduleInfo,
  type ScheduleInput,
  type ScheduleListInput,
  type SchedulePage,
} from "../../shared/schemas/queue-schedule.ts";
import { priorityOf, priorityRank } from "../logic/queue-rules.ts";
import {
  type Cadence,
  decide,
  type MissedPolicy,
  nextAfter,
  runKey,
  upcoming,
} from "../logic/schedule-rules.ts";
import type { ScheduleRow, ScheduleStore } from "./schedule-store.ts";
import type { NewTask } from "./task-store.ts";

/** The cadence a stored schedule runs on. */
function cadenceOf(row: ScheduleRow): Cadence {
  return row.cron === null
    ? { kind: "every", everyMs: row.every_ms as number, anchor: row.anchor }
    : { kind: "cron", cron: row.cron, timezone: row.timezone ?? "UTC" };
}

/** A schedule's JSON text around its stored payload; with `now`, carrying its next run times. */
function infoText(row: ScheduleRow, now?: number): string {
  const fields: Omit<ScheduleInfo, "task"> & { task?: unknown } = {
    name: row.name,
    ...(row.cron === null
      ? { everyMs: row.every_ms as number }
      : { cron: row.cron, timezone: row.timezone ?? "UTC" }),
    missed: row.missed as MissedPolicy,
    paused: row.paused === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastTaskId: row.last_task_id,
    runs: row.runs,
  };
  if (now !== undefined) {
    // The first is the stored next run (which may be due already), then the ones after it.
    const first = row.next_run_at;
    fields.nextRuns = first === null ? [] : [first, ...upcoming(cadenceOf(row), first, NEXT_RUNS - 1)];
  }
  const task = withRawMembers(
    { priority: priorityOf(row.priority), maxAttempts: row.max_attempts },
    { payload: row.payload },
  );
  return withRawMembers(fields, { task });
}

export class QueueSchedules {
  private readonly store: ScheduleStore;

  constructor(store: ScheduleStore) {
    this.store = store;
  }

  /**
   * Creates or replaces a schedule (`payload` is the task's payload as JSON text). A replaced one
   * keeps its paused flag, its creation time and its run history; its next run follows the new
   * definition from `now`.
   */
  put(
    name: string,
    input: ScheduleInput,
    payload: string,
    now: number,
  ): { created: boolean; nextRunAt: number | null; text: JsonText<ScheduleInfo> } {
    const old = this.store.get(name);
    const row: ScheduleRow = {
      name,
      cron: input.cron ?? null,
      timezone: input.cron === undefined ? null : (input.timezone ?? "UTC"),
      every_ms: input.everyMs ?? null,
      anchor: now,
      payload,
      priority: priorityRank(input.task.priority),
      max_attempts: input.task.maxAttempts,
      missed: input.missed,
      paused: old?.paused ?? 0,
      next_run_at: null,
      created_at: old?.created_at ?? now,
      updated_at: now,
      last_run_at: old?.last_run_at ?? null,
      last_task_id: old?.last_task_id ?? null,
      runs: old?.runs ?? 0,
    };
    if (row.paused === 0) row.next_run_at = nextAfter(cadenceOf(row), now);
    this.store.put(row);
    return { created: old === undefined, nextRunAt: row.next_run_at, text: asJsonText(infoText(row, now)) };
  }

  /** One schedule with its next run times, or undefined. */
  get(name: string, now: number): JsonText<ScheduleInfo> | undefined {
    const row = this.store.get(name);
    return row && asJsonText(infoText(row, now));
  }

  /** A page in name order (byte order), within the page budget. */
  list(input: ScheduleListInput, budget: number): JsonText<SchedulePage> {
    const { rows, more } = this.store.page(input.cursor ?? "", input.limit, budget);
    const last = rows.at(-1);
    const cursor = more && last !== undefined ? last.name : null;
    return asJsonText(
      `{"schedules":${rawArray(rows.map((r) => infoText(r)))},"cursor":${JSON.stringify(cursor)}}`,
    );
  }

  /**
   * Pauses (no runs, next run null) or resumes (next run after `now`: runs due while paused are
   * not made up). Idempotent. Undefined for an unknown schedule.
   */
  setPaused(
    name: string,
    paused: boolean,
    now: number,
  ): { nextRunAt: number | null; text: JsonText<ScheduleInfo> } | undefined {
    const row = this.store.get(name);
    if (!row) return undefined;
    if ((row.paused === 1) !== paused) {
      row.paused = paused ? 1 : 0;
      row.next_run_at = paused ? null : nextAfter(cadenceOf(row), now);
      row.updated_at = now;
      this.store.setPaused(name, paused, row.next_run_at, now);
    }
    return { nextRunAt: row.next_run_at, text: asJsonText(infoText(row, now)) };
  }

  delete(name: string): boolean {
    return this.store.delete(name);
  }

  deleteAll(): void {
    this.store.deleteAll();
  }

  /** The earliest next run of any schedule (the alarm must ring by then), or null. */
  earliest(): number | null {
    return this.store.earliest();
  }

  /**
   * Runs up to `limit` schedules due by `now`: each makes at most one run, whose task goes to
   * `enqueue` with the run's dedup key, and moves on past `now` in the same transaction, so a
   * repeated alarm finds nothing due. Returns how many schedules it looked at.
   */
  fire(now: number, limit: number, enqueue: (task: NewTask) => string): number {
    const due = this.store.due(now, limit);
    for (const row of due) {
      const decision = decide(cadenceOf(row), row.missed as MissedPolicy, row.next_run_at as number, now);
      if (decision.run === null) {
        this.store.advance(row.name, decision.next);
        continue;
      }
      const taskId = enqueue({
        state: "ready",
        priority: row.priority,
        payload: row.payload,
        maxAttempts: row.max_attempts,
        enqueuedAt: now,
        availableAt: now,
        dedupKey: runKey(row.name, decision.run),
      });
      this.store.advance(row.name, decision.next, { at: decision.run, taskId });
    }
    return due.length;
  }
}
