/**
 * The rules of one task queue, free of storage and timers: priorities and the lease order, the
 * legal state transitions, where a nacked or expired task goes, and when the object must wake.
 * The queue object keeps tasks in SQLite; it asks these functions what to do with them.
 */
import { type BackoffPolicy, backoffDelay, type RandomSource } from "../../shared/resilience/backoff.ts";
import { PRIORITIES, type Priority } from "../../shared/schemas/priority.ts";

export { PRIORITIES, type Priority } from "../../shared/schemas/priority.ts";

/**
 * Where a task is in its life. `completed` and `dead` are final until a purge or a redrive;
 * `waiting` is a flow's parent until its children are done (never leased).
 */
export const TASK_STATES = ["ready", "delayed", "leased", "completed", "dead", "waiting"] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** A priority's rank: `low` 0 … `critical` 3. Stored instead of the name so the index sorts by it. */
export const priorityRank = (p: Priority): number => PRIORITIES.indexOf(p);

/** The priority of a stored rank. */
export function priorityOf(rank: number): Priority {
  const p = PRIORITIES[rank];
  if (p === undefined) throw new RangeError(`no priority has rank ${rank}`);
  return p;
}

/** What decides a ready task's place: priority, then since when it is ready, then arrival. */
export interface ReadyKey {
  rank: number;
  /** When the task became (or becomes) ready: enqueue time + delay, retry time, lease expiry. */
  availableAt: number;
  /** Monotonic per queue: breaks ties within one millisecond by arrival. */
  seq: number;
}

/**
 * The lease order: highest priority first; within a priority the task ready the longest first.
 * The object's ready index sorts the same way (`rank DESC, available_at, seq`).
 */
export function leaseOrder(a: ReadyKey, b: ReadyKey): number {
  return b.rank - a.rank || a.availableAt - b.availableAt || a.seq - b.seq;
}

/** Why a task changes state: each event allows only some moves. */
export type TaskEvent =
  | "enqueue"
  | "promote"
  | "lease"
  | "ack"
  | "retry"
  | "bury"
  | "expire"
  | "redrive"
  | "purge"
  | "cancel"
  | "unblock";

/** `null` stands for "not stored": before an enqueue, after a purge. */
export type Place = TaskState | null;

/** The legal moves per event; anything else is a bug in the caller. */
export const TRANSITIONS: Readonly<Record<TaskEvent, ReadonlyArray<readonly [Place, Place]>>> = {
  enqueue: [
    [null, "ready"],
    [null, "delayed"],
    [null, "waiting"],
  ],
  promote: [["delayed", "ready"]],
  lease: [["ready", "leased"]],
  ack: [["leased", "completed"]],
  retry: [
    ["leased", "ready"],
    ["leased", "delayed"],
  ],
  bury: [["leased", "dead"]],
  expire: [
    ["leased", "ready"],
    ["leased", "dead"],
  ],
  redrive: [["dead", "ready"]],
  purge: [
    ["completed", null],
    ["dead", null],
  ],
  // A task deleted before it started (a producer taking it back).
  cancel: [
    ["ready", null],
    ["delayed", null],
  ],
  // A flow's parent: its children are done (ready), or one died and fails it (dead).
  unblock: [
    ["waiting", "ready"],
    ["waiting", "dead"],
  ],
};

/** True when `event` may move a task from `from` to `to`. */
export function isLegalMove(event: TaskEvent, from: Place, to: Place): boolean {
  return TRANSITIONS[event].some(([f, t]) => f === from && t === to);
}

/** A task in the queue and from when it is leasable. */
export interface Queued {
  state: "ready" | "delayed";
  availableAt: number;
}

/** Where a task goes: back in the queue, or to the dead-letter queue. */
export type Placement = Queued | { state: "dead" };

/** A new task: ready now, or delayed until `now + delayMs`. */
export function placeNew(now: number, delayMs: number): Queued {
  return delayMs > 0
    ? { state: "delayed", availableAt: now + delayMs }
    : { state: "ready", availableAt: now };
}

/** The retry schedule when nobody configures one: 1 s, 2 s, 4 s … up to 10 min, equal jitter. */
export const DEFAULT_RETRY_POLICY: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 1_000,
  maxDelayMs: 600_000,
  factor: 2,
  jitter: "equal",
};

/** The attempt counts of a leased task. */
export interface Attempts {
  /** Deliveries so far, this one included (1 on the first lease). */
  attempt: number;
  maxAttempts: number;
}

/** What the consumer asked for in a nack. */
export interface NackRequest {
  retry: boolean;
  /** Overrides the backoff when given. */
  delayMs?: number | undefined;
}

/**
 * Where a nacked task goes: dead when retry is off or the attempts are used up; else back to the
 * queue after `delayMs` or, by default, the backoff for retry number `attempt`.
 */
export function placeNacked(
  task: Attempts,
  request: NackRequest,
  now: number,
  policy: BackoffPolicy,
  random: RandomSource,
): Placement {
  if (!request.retry || task.attempt >= task.maxAttempts) return { state: "dead" };
  return placeNew(now, request.delayMs ?? backoffDelay(policy, task.attempt, random));
}

/**
 * Where a task whose lease expired goes: ready from the moment of expiry (so recovery by a late
 * alarm does not push it behind tasks that were ready later), or dead when out of attempts.
 */
export function placeExpired(
  task: Attempts,
  leaseExpiresAt: number,
): { state: "ready"; availableAt: number } | { state: "dead" } {
  if (task.attempt >= task.maxAttempts) return { state: "dead" };
  return { state: "ready", availableAt: leaseExpiresAt };
}

/** True when `leaseId` is the task's lease and it has not expired at `now`. */
export function holdsLease(
  task: { state: TaskState; leaseId: string | null; leaseExpiresAt: number | null },
  leaseId: string,
  now: number,
): boolean {
  return (
    task.state === "leased" &&
    task.leaseId === leaseId &&
    task.leaseExpiresAt !== null &&
    task.leaseExpiresAt > now
  );
}

/** The earliest instant of each kind of pending work, when there is any. */
export interface DueTimes {
  /** Earliest lease expiry. */
  leaseExpiry?: number | undefined;
  /** Earliest end of a delay. */
  delayedDue?: number | undefined;
  /** When the oldest completed task completed. */
  oldestCompletedAt?: number | undefined;
}

/** When the one alarm must ring: the earliest of the due times; null when nothing is pending. */
export function nextWake(due: DueTimes, retentionMs: number): number | null {
  const times = [
    due.leaseExpiry,
    due.delayedDue,
    due.oldestCompletedAt === undefined ? undefined : due.oldestCompletedAt + retentionMs,
  ].filter((t): t is number => t !== undefined);
  return times.length === 0 ? null : Math.min(...times);
}
