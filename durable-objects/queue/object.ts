/**
 * One object per queue: tasks in SQLite, leased highest priority first, with visibility timeouts,
 * retries with backoff, a dead-letter queue, and recovery of expired leases by one alarm. The
 * rules live in `logic/queue-rules.ts`, the rows in the stores beside this file ({@link StreamStore},
 * which extends the task store, and those of schedules, flows and progress); this class runs each
 * operation as one transaction, keeps the stats counters and the alarm, and answers long polls.
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import type { JsonText } from "../../shared/json-text.ts";
import type { TimerHandle } from "../../shared/resilience/clock.ts";
import type {
  AckBatchInput,
  AckBatchOutput,
  AckInput,
  DeadPage,
  DeadQueryInput,
  EnqueueInput,
  ExtendInput,
  LeasedTask,
  LeaseInput,
  NackInput,
  NackOutput,
  PurgeInput,
  QueueStats,
  RedriveInput,
  TaskInfo,
  TaskInput,
  TaskListInput,
  TaskPage,
  TaskQueryInput,
} from "../../shared/schemas/queue.ts";
import type {
  EnqueueFlowInput,
  FlowChildOutput,
  FlowCreatedOutput,
  FlowInput,
  FlowsEnqueuedOutput,
} from "../../shared/schemas/queue-flow.ts";
import type {
  LogsInput,
  LogsOutput,
  ProgressInput,
  ProgressOutput,
} from "../../shared/schemas/queue-progress.ts";
import type {
  ScheduleInfo,
  ScheduleInput,
  ScheduleListInput,
  SchedulePage,
} from "../../shared/schemas/queue-schedule.ts";
import type { ConsumerMessage, ServerMessage } from "../../shared/schemas/queue-stream.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { answerClose } from "../lib/socket-close.ts";
import { SqlObject } from "../lib/sql-object.ts";
import type { LeaseLimits } from "../logic/lease-limits.ts";
import { PAGE_BYTES } from "../logic/page-budget.ts";
import { QueueCounters } from "../logic/queue-counters.ts";
import {
  holdsLease,
  leaseOrder,
  nextWake,
  placeExpired,
  placeNacked,
  placeNew,
  priorityOf,
  priorityRank,
  type TaskState,
} from "../logic/queue-rules.ts";
import { logEntries, longLogLine, progressText } from "../logic/task-progress.ts";
import { valueText } from "../logic/value-size.ts";
import { type QueueConfig, queueConfig } from "./config.ts";
import { type Push, QueueConsumers, sendTo } from "./consumers.ts";
import { type ChildEnded, FlowStore, type OutboxRow } from "./flow-store.ts";
import { type FlowCreation, type FlowHooks, type FlowPeer, type PlantedNode, QueueFlows } from "./flows.ts";
import { type LimitsPatch, QueueLimits } from "./limits.ts";
import { ProgressStore } from "./progress-store.ts";
import { ScheduleStore } from "./schedule-store.ts";
import { QueueSchedules } from "./schedules.ts";
import { StreamStore } from "./stream-store.ts";
import { TaskEnds } from "./task-ends.ts";
import {
  cursorAfter,
  infoText,
  type LeasedText,
  leaseAnswer,
  leasedText,
  pageAnswer,
  parseCursor,
} from "./task-list.ts";
import {
  type LeasedRow,
  type LeaseRow,
  type NewTask,
  QUEUE_SCHEMA,
  type RedriveRow,
  type TaskRow,
} from "./task-store.ts";

/**
 * Most tasks one housekeeping step moves, all kinds together (promotions, expired leases,
 * retention); the rest follow on an alarm due at once, so no request waits for more than a step.
 */
const SETTLE_LIMIT = 1000;
/** `lastError` keeps this many characters. */
const MAX_ERROR_CHARS = 4096;
/** Task ids are the row's sequence number in decimal. */
const TASK_ID = /^[1-9][0-9]{0,15}$/;

type LeaseAnswer = JsonText<{ tasks: LeasedTask[] }>;

/** A task as task info answers it, and whether it has ended (completed or dead). */
type TaskRead = Result<{ text: JsonText<TaskInfo>; seq: number; ended: boolean }>;

interface Waiter {
  max: number;
  visibilityMs: number;
  resolve: (result: Result<LeaseAnswer>) => void;
  timer: TimerHandle;
}

type AckFailureCode = NonNullable<AckBatchOutput["results"][number]["code"]>;

/** One ack of a batch as the object checks it: the task's row number (none for a malformed id) and its result as JSON text. */
interface AckRecord {
  id: string;
  leaseId: string;
  seq: number | undefined;
  text: Result<string | null>;
}

/** Whether one ack held, or why not. */
interface AckOutcome {
  id: string;
  outcome: Result<true>;
}

const readyKey = (row: LeasedRow) => ({ rank: row.priority, availableAt: row.available_at, seq: row.seq });

const parseId = (id: string): number | undefined => (TASK_ID.test(id) ? Number(id) : undefined);

/** A flow node (and its subtree) with each payload as JSON text; `payload_too_large` names the one over 256 KiB. */
function plantedNode(
  node: Omit<PlantedNode, "payloadText" | "children"> & {
    payload: unknown;
    children?: FlowInput["children"] | undefined;
  },
  field: string,
  path: string,
): Result<PlantedNode> {
  const { payload, children, ...fields } = node;
  const text = valueText(payload, field);
  if (!text.ok) return text;
  const planted: PlantedNode = { ...fields, payloadText: text.value };
  if (children === undefined) return ok(planted);
  planted.children = [];
  for (const [i, child] of children.entries()) {
    const at = `${path}children.${i}.`;
    const sub = plantedNode(child, `${at}payload`, at);
    if (!sub.ok) return sub;
    planted.children.push(sub.value);
  }
  return ok(planted);
}

/** A flow's parent as the root of its tree; `prefix` places its fields in the body (`flows.3.`). */
const plantedRoot = (flow: FlowInput, prefix: string): Result<PlantedNode> =>
  plantedNode(
    { ...flow.parent, delayMs: 0, onChildFailure: flow.onChildFailure, children: flow.children },
    `${prefix}parent.payload`,
    prefix,
  );

/** True when `row` is a task that the lease `leaseId` completed: a retried ack of it holds again. */
const ackedBy = (row: LeaseRow | undefined, leaseId: string): boolean =>
  row?.state === "completed" && row.lease_id === leaseId;

/** The earlier of two instants, either of which may be absent. */
const earliest = (a: number | null, b: number | null): number | null =>
  a === null || b === null ? (a ?? b) : Math.min(a, b);

export class QueueObject extends SqlObject {
  private readonly store: StreamStore;
  /** Tasks' progress and log lines. */
  private readonly progress: ProgressStore;
  private readonly consumers: QueueConsumers;
  private readonly schedules: QueueSchedules;
  private readonly flows: QueueFlows;
  /** The operator's lease limits (rate and concurrency), checked by every lease and push. */
  private readonly limits: QueueLimits;
  /** Paused: leases and pushes hand out nothing (persisted; see {@link setPaused}). */
  private paused = false;
  private readonly config: QueueConfig;
  private counters = new QueueCounters();
  /** The one alarm, set at or before the earliest pending work; a ring treats its time as "now". */
  private readonly alarmTime: ObjectAlarm;
  /** Long-polling leases, first come first served. */
  private readonly waiters: Waiter[] = [];
  /** Callers waiting for a task to end (task info with `waitMs`). */
  private readonly ends = new TaskEnds<TaskRead>(() => this.clock);
  /** The earliest time at which work made by the running operation falls due (see {@link saveCountersAndAlarm}). */
  private wakeBy: number | null = null;
  /** The running operation settled due work or spent the alarm: the alarm's time is recomputed. */
  private rescan = false;
  /** The sending of the outbox rows the last operation claimed (see {@link mutateAndSend}). */
  private sending: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, QUEUE_SCHEMA);
    this.config = queueConfig(env);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
    const sql = this.sql;
    this.store = new StreamStore(sql);
    this.progress = new ProgressStore(sql);
    this.consumers = new QueueConsumers(ctx);
    this.store.observer = {
      leaseEnded: (seq) => {
        this.consumers.leaseEnded(seq);
        this.ends.touched(seq);
      },
      leaseExtended: (seq, leaseExpiresAt) => this.consumers.leaseExtended(seq, leaseExpiresAt),
    };
    this.schedules = new QueueSchedules(new ScheduleStore(sql));
    this.flows = new QueueFlows(new FlowStore(sql));
    this.limits = new QueueLimits(sql);
  }

  /** Adds one task or a batch; a live task with the same dedup key answers with its id. */
  async enqueue(input: EnqueueInput): Promise<Result<{ ids: string[] }>> {
    await this.ready;
    const batch = "tasks" in input;
    const tasks = batch ? input.tasks : [input];
    const payloads: string[] = [];
    for (const [i, task] of tasks.entries()) {
      const text = valueText(task.payload, batch ? `tasks.${i}.payload` : "payload");
      if (!text.ok) return text;
      payloads.push(text.value);
    }
    const now = this.clock.now();
    const ids = this.mutate(now, () => {
      const ids: string[] = [];
      // Tasks without a dedup key go in one statement per run; a keyed one is checked on its own.
      let run: Array<{ index: number; row: NewTask }> = [];
      const flush = () => {
        const seqs = run.length > 0 ? this.store.insertMany(run.map((r) => r.row)) : [];
        run.forEach((r, k) => {
          ids[r.index] = String(seqs[k]);
        });
        run = [];
      };
      for (const [i, task] of tasks.entries()) {
        const place = placeNew(now, task.delayMs);
        const row: NewTask = {
          state: place.state,
          priority: priorityRank(task.priority),
          payload: payloads[i] as string,
          maxAttempts: task.maxAttempts,
          enqueuedAt: now,
          availableAt: place.availableAt,
          dedupKey: task.dedupKey ?? null,
        };
        if (task.dedupKey === undefined) {
          run.push({ index: i, row });
          this.counted(row);
        } else {
          flush();
          ids[i] = this.addTask(row);
        }
      }
      flush();
      return ids;
    });
    return ok({ ids });
  }

  /**
   * Leases up to `max` tasks in priority order (fewer when their payloads pass the page budget);
   * with `waitMs`, waits for the first to be ready. The answer is JSON text around the stored payloads.
   */
  async lease(input: LeaseInput): Promise<Result<LeaseAnswer>> {
    await this.ready;
    const now = this.clock.now();
    const tasks = this.mutate(now, () => this.take(input.max, input.visibilityMs, now));
    if (tasks.length > 0 || input.waitMs === 0) return ok(leaseAnswer(tasks));
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max: input.max,
        visibilityMs: input.visibilityMs,
        resolve,
        timer: this.clock.setTimer(() => {
          const i = this.waiters.indexOf(waiter);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          resolve(ok(leaseAnswer([])));
        }, input.waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Completes a task held under `leaseId`; repeated with the lease that completed it, answers the same. */
  async ack(id: string, input: AckInput): Promise<Result<{ id: string; state: "completed" }>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutateAndSend(now, () => {
      for (const { outcome } of this.completeMany([{ id, ...input }], now, () => "result")) {
        if (!outcome.ok) return outcome;
      }
      return ok({ id, state: "completed" as const });
    });
  }

  /** Completes many tasks in one transaction; each result says whether its ack held. */
  async ackBatch(input: AckBatchInput): Promise<Result<AckBatchOutput>> {
    await this.ready;
    const now = this.clock.now();
    const results = await this.mutateAndSend(now, () =>
      this.completeMany(input.acks, now, (i) => `acks.${i}.result`).map(({ id, outcome }) => {
        if (outcome.ok) return { id, ok: true };
        return { id, ok: false, code: outcome.error.code as AckFailureCode };
      }),
    );
    return ok({ results });
  }

  /** Gives a task back: retried after a backoff (or `delayMs`), or dead when out of attempts. */
  async nack(id: string, input: NackInput): Promise<Result<NackOutput>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutateAndSend(now, (): Result<NackOutput> => {
      const held = this.held(id, input.leaseId, now);
      if (!held.ok) return held;
      const row = held.value;
      const priority = priorityOf(row.priority);
      const error = input.error === undefined ? null : input.error.slice(0, MAX_ERROR_CHARS);
      const attempts = { attempt: row.attempt, maxAttempts: row.max_attempts };
      const place = placeNacked(attempts, input, now, this.config.retryPolicy, Math.random);
      if (place.state === "dead") {
        this.store.bury(row.seq, error, now);
        this.counters.move("bury", priority, "leased", "dead");
        return ok({ id, state: "dead" });
      }
      this.store.requeue(row.seq, place.state, place.availableAt, error);
      this.counters.move("retry", priority, "leased", place.state);
      if (place.state === "delayed") this.wakeAt(place.availableAt);
      return ok({ id, state: place.state, nextAttemptAt: place.availableAt });
    });
  }

  /** Makes a delayed task ready now; long polls waiting get it at once. */
  async promote(id: string): Promise<Result<{ id: string; state: "ready" }>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const found = this.taskIn(id, ["delayed"], "a delayed task can be promoted");
      if (!found.ok) return found;
      const row = found.value;
      this.store.promote(row.seq, now);
      this.counters.move("promote", priorityOf(row.priority), "delayed", "ready");
      return ok({ id, state: "ready" as const });
    });
  }

  /**
   * Deletes a task no consumer holds (ready or delayed: never leased, or between attempts). A flow
   * parent waiting for it hears of it as a dead child; the answer comes once it has. A task leased,
   * ended or waiting is a `conflict`.
   */
  async deleteTask(id: string): Promise<Result<{ id: string; deleted: true }>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutateAndSend(now, () => {
      const found = this.taskIn(id, ["ready", "delayed"], "a ready or delayed task may be deleted");
      if (!found.ok) return found;
      const row = found.value;
      this.flows.deleting(row.seq);
      this.store.delete(row.seq);
      this.counters.move("cancel", priorityOf(row.priority), row.state, null);
      // A wait for its end answers not_found.
      this.ends.touched(row.seq);
      return ok({ id, deleted: true as const });
    });
  }

  /** Moves a held lease's expiry to now + `visibilityMs`. */
  async extend(id: string, input: ExtendInput): Promise<Result<{ leaseExpiresAt: number }>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const held = this.held(id, input.leaseId, now);
      if (!held.ok) return held;
      const leaseExpiresAt = now + input.visibilityMs;
      this.store.extendLease(held.value.seq, leaseExpiresAt);
      return ok({ leaseExpiresAt });
    });
  }

  /**
   * Replaces a held task's progress (any JSON, at most 4 KiB of text). It stays through retries:
   * a nack, an expiry or a closed socket leave it for the next attempt to read and replace.
   */
  async reportProgress(id: string, input: ProgressInput): Promise<Result<ProgressOutput>> {
    // Sizes before the task and its lease, as the contract orders a body's 413 before a 404 or 409.
    const text = progressText(input.progress);
    if (!text.ok) return text;
    return this.whileHeld(id, input.leaseId, (row, now) => {
      this.progress.setProgress(row.seq, text.value, now);
      return ok({ id, progressAt: now });
    });
  }

  /** Appends log lines to a held task, each marked with the attempt and the time; the newest 100 are kept. */
  async appendLogs(id: string, input: LogsInput): Promise<Result<LogsOutput>> {
    const tooLong = longLogLine(input.lines);
    if (tooLong) return tooLong;
    return this.whileHeld(id, input.leaseId, (row, now) => {
      const entries = logEntries(input.lines, row.attempt, now);
      const kept = this.progress.append(row.seq, entries);
      return ok({ id, appended: entries.length, ...kept });
    });
  }

  /** Runs `fn` in one transaction on task `id` while `leaseId` is its live lease; else `not_found` or `lease_mismatch`. */
  private async whileHeld<T>(
    id: string,
    leaseId: string,
    fn: (row: LeaseRow, now: number) => Result<T>,
  ): Promise<Result<T>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const held = this.held(id, leaseId, now);
      return held.ok ? fn(held.value, now) : held;
    });
  }

  /**
   * One task, as JSON text around its stored payload and result: as it stands, or with `waitMs`,
   * once it is completed or dead (answered the moment it is), or as it stands after `waitMs`. A
   * caller that may go away while it waits passes a `ticket` and calls {@link leaveWait} with it
   * when it does.
   */
  async task(
    id: string,
    input: TaskQueryInput = { waitMs: 0 },
    ticket?: string,
  ): Promise<Result<JsonText<TaskInfo>>> {
    await this.ready;
    const until = this.clock.now() + input.waitMs;
    let read = this.taskNow(id);
    for (;;) {
      if (!read.ok) return read;
      const now = this.clock.now();
      const { text, seq, ended } = read.value;
      const woken = ended || now >= until ? undefined : this.ends.wait(seq, until - now, ticket);
      if (!woken) return ok(text);
      const next = await woken;
      if (next) read = next;
      else {
        // The time is up or the caller left: the task as it stands.
        const last = this.taskNow(id);
        return last.ok ? ok(last.value.text) : last;
      }
    }
  }

  /**
   * Enqueues one task, then waits for its end as {@link task} does (`POST .../run`): one call to
   * the object where the Worker would otherwise make two. A live task that holds the dedup key is
   * a `conflict` naming its id, not waited on: its info is for `read` tokens, and this route
   * needs only `write` (a key such as an invoice id is easy to guess).
   */
  async run(input: TaskInput, query: TaskQueryInput, ticket?: string): Promise<Result<JsonText<TaskInfo>>> {
    await this.ready;
    const holder = input.dedupKey === undefined ? undefined : this.store.liveWithKey(input.dedupKey);
    if (holder !== undefined) {
      const message = "a live task holds this dedupKey: wait for it with GET .../tasks/{id}?waitMs=";
      return fail("conflict", message, { id: String(holder) });
    }
    // No turn passes before the enqueue's transaction: the key is still free there.
    const enqueued = await this.enqueue(input);
    if (!enqueued.ok) return enqueued;
    const [id] = enqueued.value.ids;
    if (id === undefined) throw new Error("run: the enqueue answered no id");
    return this.task(id, query, ticket);
  }

  /** Ends the wait of a task-info call made with `ticket` (its HTTP client went away); whether it was waiting. */
  async leaveWait(ticket: string): Promise<boolean> {
    await this.ready;
    return this.ends.leave(ticket);
  }

  /**
   * A page of the tasks in one state (see {@link TaskStore.listPage} for the order and the byte
   * budget), or the live task holding `dedupKey` (in `state`, when both are given).
   */
  async tasks(input: TaskListInput): Promise<Result<JsonText<TaskPage>>> {
    await this.ready;
    return this.mutate(this.clock.now(), (): Result<JsonText<TaskPage>> => {
      if (input.dedupKey === undefined) return this.page(input.state ?? "ready", input.cursor, input.limit);
      const seq = this.store.liveWithKey(input.dedupKey);
      const row = seq === undefined ? undefined : this.store.get(seq);
      const match = row !== undefined && (input.state === undefined || row.state === input.state);
      const rows = match ? [row] : [];
      return ok(pageAnswer(rows, null, this.logsOf(rows)));
    });
  }

  /** The counters, kept up to date by every move (never recounted). */
  async stats(): Promise<QueueStats> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const { counts, totals } = this.counters.snapshot();
      const since = this.store.oldestReadySince();
      const oldestReadyAgeMs = since === undefined ? 0 : Math.max(0, now - since);
      return { ...counts, totals, oldestReadyAgeMs, paused: this.paused, ...this.limits.stats() };
    });
  }

  /** A page of the dead-letter queue, oldest first. */
  async dead(input: DeadQueryInput): Promise<Result<JsonText<DeadPage>>> {
    await this.ready;
    return this.mutate(this.clock.now(), () => this.page("dead", input.cursor, input.limit));
  }

  /** Puts dead tasks (the listed ones, or all) back in the queue with their attempts reset. */
  async redrive(input: RedriveInput): Promise<Result<{ redriven: number }>> {
    await this.ready;
    const now = this.clock.now();
    const redriven = this.mutate(now, () => {
      let count = 0;
      const revive = (row: RedriveRow | undefined) => {
        if (row?.state !== "dead") return;
        // A live task may have taken the dedup key meanwhile: the revived one gives it up.
        const keepKey = row.dedup_key === null || this.store.liveWithKey(row.dedup_key) === undefined;
        this.store.redrive(row.seq, now, keepKey);
        this.counters.move("redrive", priorityOf(row.priority), "dead", "ready");
        count++;
      };
      if (input.ids) {
        const seqs = [...new Set(input.ids)].flatMap((id) => parseId(id) ?? []);
        for (const row of this.store.redriveRows(seqs)) revive(row);
        return count;
      }
      for (let page = this.store.deadPage(0, SETTLE_LIMIT); page.length > 0; ) {
        for (const row of page) revive(row);
        page = this.store.deadPage((page.at(-1) as RedriveRow).seq, SETTLE_LIMIT);
      }
      return count;
    });
    return ok({ redriven });
  }

  /** Deletes completed or dead tasks finished at least `olderThanMs` ago. */
  async purge(input: PurgeInput): Promise<Result<{ purged: number }>> {
    await this.ready;
    const now = this.clock.now();
    const purged = this.mutate(now, () =>
      this.deleteFinished(input.state, now - input.olderThanMs, Infinity),
    );
    return ok({ purged });
  }

  /** Pauses or resumes the queue: while paused, leases and pushes hand out nothing. Idempotent. */
  async setPaused(paused: boolean): Promise<{ paused: boolean }> {
    await this.ready;
    // Resuming serves waiting long polls and sockets in the same transaction (see `mutate`).
    this.mutate(this.clock.now(), () => {
      this.paused = paused;
      this.store.setPaused(paused);
    });
    return { paused };
  }

  /**
   * Deletes every task, the schedules, the counters and the paused flag: open long polls answer empty, streaming
   * sockets are closed. The queue can be used again at once; task ids are never reused. Flow
   * children deleted before they ended reach their parents in other queues as dead children: the
   * answer comes once those queues have the news (or the alarm retries).
   */
  async deleteQueue(): Promise<{ deleted: true }> {
    await this.ready;
    for (const waiter of this.waiters.splice(0)) {
      this.clock.clearTimer(waiter.timer);
      waiter.resolve(ok(leaseAnswer([])));
    }
    this.consumers.closeAll(1000, "queue deleted");
    await this.mutateAndSend(this.clock.now(), () => {
      // Waits for tasks' ends answer not_found once the deletion has committed.
      this.ends.touchAll();
      this.deleteAll();
    });
    return { deleted: true };
  }

  /**
   * {@link deleteQueue}'s transaction. The children's ends go to the flow outbox first (the only
   * thing kept), so they are sent after the commit like any other and the alarm, aimed at them in
   * the same transaction, retries them across restarts until acknowledged.
   */
  private deleteAll(): void {
    this.flows.deleteAll(this.name);
    this.store.deleteAll();
    this.schedules.deleteAll();
    this.limits.deleteAll();
    // Memory as the emptied storage has it; the alarm from now on serves the outbox alone.
    this.alarmTime.aim(null);
    this.load();
    this.wakeBy = null;
  }

  /** Changes the lease limits (an absent field stays, null removes it); waiting leases and sockets are served at once when they loosen. */
  async setLeaseLimits(patch: LimitsPatch): Promise<LeaseLimits> {
    await this.ready;
    return this.mutate(this.clock.now(), () => this.limits.set(patch));
  }

  /** The lease limits. */
  async leaseLimits(): Promise<LeaseLimits> {
    await this.ready;
    return this.limits.config;
  }

  /**
   * Creates or replaces schedule `name` (see {@link QueueSchedules.put}); `created` tells which.
   * The schedule's JSON text carries its stored payload as is.
   */
  async putSchedule(
    name: string,
    input: ScheduleInput,
  ): Promise<Result<{ created: boolean; schedule: JsonText<ScheduleInfo> }>> {
    await this.ready;
    const payload = valueText(input.task.payload, "task.payload");
    if (!payload.ok) return payload;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const put = this.schedules.put(name, input, payload.value, now);
      if (put.nextRunAt !== null) this.wakeAt(put.nextRunAt);
      return ok({ created: put.created, schedule: put.text });
    });
  }

  /** One schedule with its next run times. */
  async schedule(name: string): Promise<Result<JsonText<ScheduleInfo>>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const text = this.schedules.get(name, now);
      return text === undefined ? this.noSchedule(name) : ok(text);
    });
  }

  /** A page of the schedules in name order. */
  async schedulesPage(input: ScheduleListInput): Promise<Result<JsonText<SchedulePage>>> {
    await this.ready;
    return this.mutate(this.clock.now(), () => ok(this.schedules.list(input, PAGE_BYTES)));
  }

  /** Pauses or resumes a schedule (idempotent); a resumed one runs next after now. */
  async setSchedulePaused(name: string, paused: boolean): Promise<Result<JsonText<ScheduleInfo>>> {
    await this.ready;
    const now = this.clock.now();
    return this.mutate(now, () => {
      const out = this.schedules.setPaused(name, paused, now);
      if (out === undefined) return this.noSchedule(name);
      if (out.nextRunAt !== null) this.wakeAt(out.nextRunAt);
      return ok(out.text);
    });
  }

  /** Deletes a schedule; the tasks its runs enqueued stay. */
  async deleteSchedule(name: string): Promise<Result<{ deleted: true }>> {
    await this.ready;
    return this.mutate(this.clock.now(), () =>
      this.schedules.delete(name) ? ok({ deleted: true as const }) : this.noSchedule(name),
    );
  }

  /**
   * Enqueues a flow, or a batch of flows in one transaction: each parent waits (never leased)
   * until every child has ended, then becomes ready with their results. Children in this queue
   * are created in the same transaction; those in other queues by their objects, asked through
   * the outbox (retried until they answer). A live task holding a parent's dedup key answers with
   * its id instead, for that flow alone (a parent earlier in the same batch holds it as well).
   */
  async flow(input: EnqueueFlowInput): Promise<Result<FlowsEnqueuedOutput>> {
    await this.ready;
    const batch = "flows" in input;
    const flows = batch ? input.flows : [input];
    const roots: PlantedNode[] = [];
    for (const [i, flow] of flows.entries()) {
      const root = plantedRoot(flow, batch ? `flows.${i}.` : "");
      if (!root.ok) return root;
      roots.push(root.value);
    }
    const now = this.clock.now();
    const created = await this.mutateAndSend(now, () =>
      roots.map((root): FlowCreatedOutput => {
        const existing = root.dedupKey === undefined ? undefined : this.store.liveWithKey(root.dedupKey);
        if (existing !== undefined) return { id: String(existing), children: [], deduplicated: true };
        const tree = this.flows.plant(this.name, root, null, now, this.flowHooks);
        return { id: tree.id as string, children: tree.children ?? [] };
      }),
    );
    return ok(batch ? { flows: created } : (created[0] as FlowCreatedOutput));
  }

  /**
   * For flows' parents in another queue: creates each child at its link with its own subtree, or
   * answers the child created before there (a creation delivered again creates nothing); one
   * transaction for all, the answers in order.
   */
  async flowCreateAll(creations: FlowCreation[]): Promise<Result<FlowChildOutput[]>> {
    await this.ready;
    const now = this.clock.now();
    const out = await this.mutateAndSend(now, () =>
      creations.map(
        ({ link, node }) =>
          this.flows.existing(this.name, link) ??
          this.flows.plant(this.name, node, link, now, this.flowHooks),
      ),
    );
    return ok(out);
  }

  /** For children in other queues: records their ends (each once) and moves their parents on. */
  async flowEnded(ends: ChildEnded[]): Promise<Result<{ applied: number }>> {
    await this.ready;
    const now = this.clock.now();
    const applied = await this.mutateAndSend(now, () => this.flows.applyEnds(ends, now, this.flowHooks));
    return ok({ applied });
  }

  /**
   * A streaming consumer (the Worker has checked the token, the name and the query): accepted for
   * hibernation and pushed ready tasks at once.
   */
  override async fetch(request: Request): Promise<Response> {
    await this.ready;
    const url = new URL(request.url);
    const client = this.consumers.accept(
      this.name,
      Number(url.searchParams.get("prefetch")),
      Number(url.searchParams.get("visibilityMs")),
    );
    this.mutate(this.clock.now(), () => undefined);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A consumer's ack, nack, extend, progress or log, answered as the HTTP route would, in the order received. */
  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    await this.ready;
    const m = this.consumers.receive(ws, data);
    if (!m) return;
    const id = m.type === "ack" ? undefined : m.id;
    try {
      sendTo(ws, await this.answer(m));
    } catch (err) {
      // A bug, not the client's fault: answered all the same, so later answers keep their order.
      console.error("queue: consumer message failed", err);
      sendTo(ws, {
        type: "error",
        ...(id ? { id } : {}),
        error: { code: "internal", message: "internal error" },
      });
    }
  }

  /** The answer to a consumer's message: the HTTP route's result, as a socket message. */
  private async answer(m: ConsumerMessage): Promise<ServerMessage> {
    if (m.type === "ack") {
      const out = await this.ackBatch({ acks: m.acks });
      return out.ok ? { type: "acked", results: out.value.results } : { type: "error", error: out.error };
    }
    if (m.type === "nack") {
      const out = await this.nack(m.id, m);
      return out.ok ? { type: "nacked", ...out.value } : { type: "error", id: m.id, error: out.error };
    }
    if (m.type === "progress") {
      const out = await this.reportProgress(m.id, m);
      return out.ok ? { type: "progressed", ...out.value } : { type: "error", id: m.id, error: out.error };
    }
    if (m.type === "log") {
      const out = await this.appendLogs(m.id, m);
      return out.ok ? { type: "logged", ...out.value } : { type: "error", id: m.id, error: out.error };
    }
    const out = await this.extend(m.id, m);
    return out.ok
      ? { type: "extended", id: m.id, ...out.value }
      : { type: "error", id: m.id, error: out.error };
  }

  /** A closed consumer's unsettled tasks go back to ready at once (the attempt counts). */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.ready;
    try {
      if (this.consumers.closed(ws)) this.mutate(this.clock.now(), () => undefined);
    } finally {
      answerClose(ws, code, reason);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    await this.ready;
    console.warn("queue: WebSocket error", error);
    if (this.consumers.closed(ws)) this.mutate(this.clock.now(), () => undefined);
  }

  /** Inside the running transaction: the leases of closed sockets go back to ready (or dead). */
  private returnOrphans(now: number): void {
    const orphans = this.consumers.takeOrphans();
    if (orphans.length === 0) return;
    const prefixOf = new Map(orphans.map((o) => [o.seq, o.prefix]));
    for (const row of this.store.leasesOf([...prefixOf.keys()])) {
      const held = row.state === "leased" && row.lease_id?.startsWith(prefixOf.get(row.seq) as string);
      if (held && (row.lease_expires_at ?? 0) > now)
        this.recoverLease(row, now, now, "consumer disconnected");
    }
  }

  /**
   * Inside the running transaction: takes ready tasks for the sockets with credit (after the long
   * polls, which waited first); they are sent once it commits.
   */
  private feedConsumers(now: number): Push[] {
    if (this.paused || !this.consumers.open || this.counters.readyTotal === 0) return [];
    const ready = this.allowed(this.counters.readyTotal, now);
    if (ready === 0) return [];
    return this.consumers.fill(now, ready, (prefix, max, visibilityMs) =>
      this.take(max, visibilityMs, now, prefix),
    );
  }

  /** A lease that ended without an ack (expiry, closed socket): ready at `availableAt`, or dead. */
  private recoverLease(row: LeaseRow, availableAt: number, now: number, why: string): void {
    const place = placeExpired({ attempt: row.attempt, maxAttempts: row.max_attempts }, availableAt);
    if (place.state === "dead") {
      this.store.bury(row.seq, `${why} on attempt ${row.attempt} of ${row.max_attempts}`, now);
    } else {
      this.store.requeue(row.seq, "ready", place.availableAt, null);
    }
    this.counters.move("expire", priorityOf(row.priority), "leased", place.state);
  }

  /**
   * Promotes due delayed tasks, recovers expired leases and drops completed tasks past retention,
   * all as of the time the alarm was set for (an alarm may run late, never early, and
   * `runDurableObjectAlarm` runs it ahead of time in tests). Idempotent: a repeated run finds
   * nothing due.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    // This alarm is spent: forgotten here and in storage, or a restart would trust a stale time.
    const now = this.alarmTime.ring();
    await this.mutateAndSend(now, () => this.store.saveAlarmAt(null), true);
  }

  protected override load(): void {
    const meta = this.store.loadMeta();
    this.counters = new QueueCounters(meta.counters);
    this.alarmTime.restore(meta.alarmAt);
    this.paused = this.store.paused();
    this.limits.load();
    this.flows.load();
    this.consumers.rebuild(this.store);
  }

  /**
   * Runs one operation as one transaction: settle what is due (everything due by `now` when the
   * alarm `rang`), apply `fn`, hand newly ready tasks to long-pollers, save the counters and
   * re-aim the alarm. On failure memory is reloaded from storage ({@link SqlObject.transaction})
   * and the long polls served meanwhile wait again.
   */
  private mutate<T>(now: number, fn: () => T, rang = false): T {
    const served: Array<{ waiter: Waiter; tasks: LeasedText[] }> = [];
    let pushes: Push[] = [];
    let claimed: OutboxRow[] = [];
    this.wakeBy = null;
    this.rescan = false;
    let out: T;
    try {
      out = this.transaction(() => {
        this.settle(now, rang);
        this.returnOrphans(now);
        const result = fn();
        claimed = this.flows.step(now, this.flowHooks);
        this.serveWaiters(now, served);
        pushes = this.feedConsumers(now);
        this.saveCountersAndAlarm();
        return result;
      });
    } catch (err) {
      this.waiters.unshift(...served.map((s) => s.waiter));
      this.ends.rolledBack();
      throw err;
    }
    this.ends.committed((seq) => this.readTask(seq));
    for (const { waiter, tasks } of served) {
      this.clock.clearTimer(waiter.timer);
      waiter.resolve(ok(leaseAnswer(tasks)));
    }
    this.consumers.send(pushes);
    this.sending = claimed.length > 0 ? this.send(claimed) : undefined;
    return out;
  }

  /**
   * {@link mutate}, then waits until the outbox rows it claimed (child creations and ends for
   * other queues) were sent: a flow answers with its children's ids, an ack returns once the
   * parent's queue has the child's end. Only this operation's own sends are awaited: two objects
   * that send to each other never wait on each other's waiting.
   */
  private async mutateAndSend<T>(now: number, fn: () => T, rang = false): Promise<T> {
    const out = this.mutate(now, fn, rang);
    const sending = this.sending;
    this.sending = undefined;
    if (sending) await sending;
    return out;
  }

  /** Sends claimed outbox rows to their queues and drops the acknowledged ones (the rest wait for their retry). */
  private async send(rows: readonly OutboxRow[]): Promise<void> {
    try {
      const { done, created } = await this.flows.send(rows, (queue) => this.peer(queue));
      this.mutate(this.clock.now(), () => this.flows.acknowledge(done, created));
    } catch (err) {
      console.error("queue flows: sending the outbox failed; the alarm retries", err);
    }
  }

  /** Another queue's object, as a flow reaches it. */
  private peer(queue: string): FlowPeer {
    return this.env.QUEUES.getByName(queue);
  }

  /** What the flows need of this object inside a transaction (see {@link QueueFlows}). */
  private readonly flowHooks: FlowHooks = {
    insert: (rows) => {
      // Only a flow's parent may hold a dedup key: checked on its own, the rest in one statement.
      if (rows.some((r) => r.dedupKey !== null)) return rows.map((r) => Number(this.addTask(r)));
      const seqs = rows.length > 0 ? this.store.insertMany(rows) : [];
      for (const row of rows) this.counted(row);
      return seqs;
    },
    unblocked: (seq, priority, to) => {
      this.counters.move("unblock", priorityOf(priority), "waiting", to);
      this.ends.touched(seq);
    },
    wakeAt: (time) => this.wakeAt(time),
  };

  /**
   * Moves what is due by `now`. Skipped before the alarm's time (unless it `rang`):
   * {@link saveCountersAndAlarm} keeps the alarm at or before the earliest pending work, so
   * nothing is due yet (this spares three statements).
   */
  private settle(now: number, rang: boolean): void {
    const at = this.alarmTime.at;
    if (!rang && (at === null || now < at)) return;
    this.rescan = true;
    // One step moves at most SETTLE_LIMIT tasks in all; the alarm is re-aimed at what is left.
    let budget = SETTLE_LIMIT;
    for (const { priority } of this.store.promoteDue(now, budget)) {
      this.counters.move("promote", priorityOf(priority), "delayed", "ready");
      budget--;
    }
    if (budget === 0) return;
    budget -= this.schedules.fire(now, budget, (task) => this.addTask(task));
    if (budget === 0) return;
    for (const row of this.store.expiredLeases(now, budget)) {
      budget--;
      this.recoverLease(row, row.lease_expires_at ?? now, now, "lease expired");
    }
    if (budget > 0) this.deleteFinished("completed", now - this.config.retentionMs, budget);
  }

  /** Deletes up to `limit` tasks in `state` finished by `before`, in chunks; returns how many. */
  private deleteFinished(state: "completed" | "dead", before: number, limit: number): number {
    let deleted = 0;
    while (deleted < limit) {
      const rows = this.store.deleteFinished(state, before, Math.min(SETTLE_LIMIT, limit - deleted));
      for (const { priority } of rows) this.counters.move("purge", priorityOf(priority), state, null);
      deleted += rows.length;
      if (rows.length < SETTLE_LIMIT) break;
    }
    return deleted;
  }

  /** Leases the first `max` ready tasks, or fewer when their payloads would pass the page budget. */
  private take(
    max: number,
    visibilityMs: number,
    now: number,
    leasePrefix = crypto.randomUUID(),
  ): LeasedText[] {
    if (this.paused) return [];
    const asked = Math.min(max, this.counters.readyTotal);
    const allowed = this.allowed(asked, now);
    if (allowed === 0 && asked > 0) return [];
    const leaseExpiresAt = now + visibilityMs;
    const limit = allowed < asked ? allowed : max;
    const rows = this.store.leaseNext(limit, PAGE_BYTES, leasePrefix, leaseExpiresAt);
    this.limits.took(rows.length, now);
    rows.sort((a, b) => leaseOrder(readyKey(a), readyKey(b)));
    if (rows.length > 0) this.wakeAt(leaseExpiresAt);
    return rows.map((row) => {
      this.counters.move("lease", priorityOf(row.priority), "ready", "leased");
      return leasedText(row, leaseExpiresAt);
    });
  }

  /** A page of `state`'s list from `cursor`, within the page budget, with the cursor where it stopped. */
  private page(state: TaskState, cursor: string | undefined, limit: number): Result<JsonText<TaskPage>> {
    const after = parseCursor(state, cursor);
    if (after === undefined) {
      return fail("invalid_request", "cursor: not a cursor this list gave out", { field: "cursor" });
    }
    const rows = this.store.listPage(state, after, limit, PAGE_BYTES);
    const last = rows.at(-1);
    const next = last !== undefined && rows.length < last.seen ? cursorAfter(state, last) : null;
    return ok(pageAnswer(rows, next, this.logsOf(rows)));
  }

  /**
   * Hands ready tasks to waiting long polls, oldest waiter first, recording each in `served` as
   * soon as it is off the list, so that a failure midway loses no waiter (see {@link mutate}).
   */
  private serveWaiters(now: number, served: Array<{ waiter: Waiter; tasks: LeasedText[] }>): void {
    while (this.waiters.length > 0 && this.counters.readyTotal > 0 && !this.paused) {
      const waiter = this.waiters[0] as Waiter;
      const tasks = this.take(waiter.max, waiter.visibilityMs, now);
      // Ready tasks, yet none taken: the lease limits allow nothing now; it keeps waiting.
      if (tasks.length === 0) break;
      this.waiters.shift();
      served.push({ waiter, tasks });
    }
  }

  /** Inserts one task, or answers the id of the live task that holds its dedup key. */
  private addTask(row: NewTask): string {
    const existing = row.dedupKey === null ? undefined : this.store.liveWithKey(row.dedupKey);
    if (existing !== undefined) return String(existing);
    const id = String(this.store.insert(row));
    this.counted(row);
    return id;
  }

  /** Counts a new task and wakes the object when it falls due. */
  private counted(row: NewTask): void {
    this.counters.move("enqueue", priorityOf(row.priority), null, row.state);
    if (row.state === "delayed") this.wakeAt(row.availableAt);
  }

  /**
   * How many of `asked` ready tasks the lease limits let a lease or push take now. When they cut
   * it and the rate limit gives tokens back later, the object wakes then to serve who waits.
   */
  private allowed(asked: number, now: number): number {
    const allowed = this.limits.allow(asked, this.counters.leased, now);
    if (allowed < asked) {
      const back = this.limits.nextTokenAt(now);
      if (back !== null) this.wakeAt(back);
    }
    return allowed;
  }

  /** Notes that the running operation made work that falls due at `time`. */
  private wakeAt(time: number): void {
    if (this.wakeBy === null || time < this.wakeBy) this.wakeBy = time;
  }

  /**
   * Saves changed counters and keeps the alarm at or before the earliest pending work. It is only
   * ever brought forward: when work goes away or moves later (an ack, an extension) the alarm
   * stays, rings early, finds less to do and re-aims. That spares a storage write per operation.
   * Between rings the alarm already covers the work that existed before, so only the work this
   * operation made ({@link wakeAt}) can bring it forward, and no statement looks for due times;
   * they are read from storage only after settling or when the alarm is spent.
   */
  private saveCountersAndAlarm(): void {
    const changes = this.counters.takeChanges();
    if (changes) this.store.saveCounters(changes);
    // A wake-up for the lease limits is in no table: it joins the rescan.
    const due = this.rescan ? earliest(this.earliestDue(), this.wakeBy) : this.wakeBy;
    if (this.alarmTime.bringForward(due)) this.store.saveAlarmAt(due);
  }

  /** The earliest pending work of any kind, read from storage: tasks' due times and schedules' next runs. */
  private earliestDue(): number | null {
    const tasks = nextWake(this.store.dueTimes(), this.config.retentionMs);
    return earliest(earliest(tasks, this.schedules.earliest()), this.flows.earliest());
  }

  /**
   * Completes the held tasks among `acks`; each outcome names why its ack did not hold. The usual
   * batch (distinct tasks, valid results) takes one statement that completes whatever is still
   * held, and reads back only the tasks it did not complete, to say why. A batch naming a task
   * twice, or carrying a result that is not valid, is checked ack by ack in order, so that a
   * repeated ack finds the task completed by the first.
   */
  private completeMany(
    acks: ReadonlyArray<{ id: string; leaseId: string; result?: unknown }>,
    now: number,
    field: (index: number) => string,
  ): AckOutcome[] {
    const records = acks.map(
      (a, i): AckRecord => ({
        id: a.id,
        leaseId: a.leaseId,
        seq: parseId(a.id),
        text: a.result === undefined ? ok(null) : valueText(a.result, field(i)),
      }),
    );
    const valid = records.flatMap((r) => (r.text.ok ? [{ ...r, result: r.text.value }] : []));
    const distinct = new Set(records.map((r) => r.seq)).size === records.length;
    const outcomes =
      distinct && valid.length === records.length
        ? this.completeHeld(valid, now)
        : this.completeInOrder(records, now);
    if (outcomes.some((o) => o.outcome.ok)) this.wakeAt(now + this.config.retentionMs);
    return outcomes;
  }

  /** {@link completeMany} for distinct tasks with valid results: one statement when all hold. */
  private completeHeld(
    acks: ReadonlyArray<AckRecord & { result: string | null }>,
    now: number,
  ): AckOutcome[] {
    const candidates = acks.flatMap(({ seq, leaseId, result }) =>
      seq === undefined ? [] : [{ seq, leaseId, result }],
    );
    const completed = new Map(this.store.completeHeld(candidates, now).map((r) => [r.seq, r.priority]));
    const missed = candidates.filter((c) => !completed.has(c.seq)).map((c) => c.seq);
    const rows = new Map(missed.length > 0 ? this.store.leasesOf(missed).map((r) => [r.seq, r]) : []);
    return acks.map(({ id, leaseId, seq }): AckOutcome => {
      const priority = seq === undefined ? undefined : completed.get(seq);
      if (priority === undefined) {
        const row = seq === undefined ? undefined : rows.get(seq);
        return { id, outcome: ackedBy(row, leaseId) ? ok(true) : this.notHeld(id, row) };
      }
      this.counters.move("ack", priorityOf(priority), "leased", "completed");
      return { id, outcome: ok(true) };
    });
  }

  /** {@link completeMany} ack by ack, in order: one read and one write in all. */
  private completeInOrder(acks: readonly AckRecord[], now: number): AckOutcome[] {
    const known = acks.flatMap(({ seq }) => (seq === undefined ? [] : [seq]));
    const rows = new Map(this.store.leasesOf(known).map((row) => [row.seq, row]));
    const done: Array<{ seq: number; leaseId: string; result: string | null }> = [];
    const outcomeOf = ({ id, leaseId, seq, text }: AckRecord): Result<true> => {
      // The result's size first, as the contract orders a body's 413 before a 404 or 409.
      if (!text.ok) return text;
      const row = seq === undefined ? undefined : rows.get(seq);
      if (ackedBy(row, leaseId)) return ok(true);
      const held = this.checkHeld(id, row, leaseId, now);
      if (!held.ok) return held;
      const task = held.value;
      done.push({ seq: task.seq, leaseId, result: text.value });
      rows.set(task.seq, { ...task, state: "completed", lease_expires_at: null });
      this.counters.move("ack", priorityOf(task.priority), "leased", "completed");
      return ok(true);
    };
    const outcomes = acks.map((ack) => ({ id: ack.id, outcome: outcomeOf(ack) }));
    // Every one was just seen held, and a task repeated in the batch is in `done` once.
    if (done.length > 0) this.store.completeHeld(done, now);
    return outcomes;
  }

  /** The task when `leaseId` is its live lease; else `not_found` or `lease_mismatch`. */
  private held(id: string, leaseId: string, now: number): Result<LeaseRow> {
    const seq = parseId(id);
    return this.checkHeld(id, seq === undefined ? undefined : this.store.leaseOf(seq), leaseId, now);
  }

  /** `row` when `leaseId` is its live lease; else `not_found` (no row) or `lease_mismatch`. */
  private checkHeld(id: string, row: LeaseRow | undefined, leaseId: string, now: number): Result<LeaseRow> {
    if (
      row &&
      holdsLease(
        { state: row.state, leaseId: row.lease_id, leaseExpiresAt: row.lease_expires_at },
        leaseId,
        now,
      )
    ) {
      return ok(row);
    }
    return this.notHeld(id, row);
  }

  /** Why an ack, nack or extension of task `id` (stored as `row`, if at all) does not hold. */
  private notHeld<T>(id: string, row: LeaseRow | undefined): Result<T> {
    if (!row) return this.notFound(id);
    return fail("lease_mismatch", `task ${id} is not leased under this lease id (expired or taken over)`, {
      id,
      state: row.state,
    });
  }

  /** The kept log entries of the rows that have any, in one statement (none when no row has). */
  private logsOf(rows: readonly TaskRow[]): Map<number, string[]> {
    return this.progress.entriesOf(rows.filter((row) => row.log_count > 0).map((row) => row.seq));
  }

  /** Task `id` for an operator's move that only `states` allow: else not_found, or a conflict naming its state. */
  private taskIn(id: string, states: readonly TaskState[], rule: string): Result<LeaseRow> {
    const seq = parseId(id);
    const row = seq === undefined ? undefined : this.store.leaseOf(seq);
    if (!row) return this.notFound(id);
    if (!states.includes(row.state)) {
      return fail("conflict", `task ${id} is ${row.state}: only ${rule}`, { id, state: row.state });
    }
    return ok(row);
  }

  /** Task `id` after moving what is due (a lease that expired may have ended it). */
  private taskNow(id: string): TaskRead {
    this.mutate(this.clock.now(), () => undefined);
    const seq = parseId(id);
    return seq === undefined ? this.notFound(id) : this.readTask(seq);
  }

  /** Task `seq` as task info answers it, and whether it has ended. */
  private readTask(seq: number): TaskRead {
    const row = this.store.get(seq);
    if (!row) return this.notFound(String(seq));
    const text = infoText(row, this.logsOf([row]).get(row.seq) ?? []) as JsonText<TaskInfo>;
    return ok({ text, seq, ended: row.state === "completed" || row.state === "dead" });
  }

  private noSchedule<T>(name: string): Result<T> {
    return fail("not_found", `queue ${this.name} has no schedule ${name}`, { name });
  }

  private notFound<T>(id: string): Result<T> {
    return fail("not_found", `queue ${this.name} has no task ${id}`, { id });
  }
}
