/**
 * The queue's stats, kept up to date move by move instead of recounted by scanning: how many
 * tasks are in each state (ready per priority) and running totals of what happened.
 */
import { isLegalMove, type Place, PRIORITIES, type Priority, type TaskEvent } from "./queue-rules.ts";

/** Tasks per state right now. */
export interface StateCounts {
  ready: Record<Priority, number>;
  delayed: number;
  leased: number;
  completed: number;
  dead: number;
  /** Flow parents waiting for their children. */
  waiting: number;
}

/** Running totals since the queue was created. */
export interface Totals {
  enqueued: number;
  completed: number;
  /** Nacks that put the task back in the queue. */
  retried: number;
  /** Tasks that went to the dead-letter queue, by nack or by expiry. */
  dead: number;
  /** Expired leases reclaimed (to ready, or to dead when out of attempts). */
  recovered: number;
}

/** Everything the counters hold; what the object stores. */
export interface CounterSnapshot {
  counts: StateCounts;
  totals: Totals;
}

/** A snapshot of a queue that never held a task. */
export function emptySnapshot(): CounterSnapshot {
  // PRIORITIES lists every Priority, so each gets its count.
  const ready = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
  return {
    counts: { ready, delayed: 0, leased: 0, completed: 0, dead: 0, waiting: 0 },
    totals: { enqueued: 0, completed: 0, retried: 0, dead: 0, recovered: 0 },
  };
}

export class QueueCounters {
  private state: CounterSnapshot;
  /** True when something changed since the last {@link takeChanges}. */
  private dirty = false;

  constructor(snapshot: CounterSnapshot = emptySnapshot()) {
    this.state = structuredClone(snapshot);
    // Snapshots stored before flows have no `waiting` count.
    this.state.counts.waiting ??= 0;
  }

  /**
   * Records that `count` tasks of `priority` moved from `from` to `to` because of `event`.
   * Throws on a move the rules do not allow: that is a bug, not a client error.
   */
  move(event: TaskEvent, priority: Priority, from: Place, to: Place, count = 1): void {
    if (!isLegalMove(event, from, to)) throw new Error(`illegal move ${from} -> ${to} on ${event}`);
    if (count === 0) return;
    if (from !== null) this.add(from, priority, -count);
    if (to !== null) this.add(to, priority, count);
    const t = this.state.totals;
    if (event === "enqueue") t.enqueued += count;
    if (event === "retry") t.retried += count;
    if (event === "expire") t.recovered += count;
    if (to === "completed") t.completed += count;
    if (to === "dead") t.dead += count;
    this.dirty = true;
  }

  /** How many ready tasks there are in all. */
  get readyTotal(): number {
    return PRIORITIES.reduce((sum, p) => sum + this.state.counts.ready[p], 0);
  }

  /** How many tasks are leased (HTTP leases and streaming pushes). */
  get leased(): number {
    return this.state.counts.leased;
  }

  /** A copy of the counters. */
  snapshot(): CounterSnapshot {
    return structuredClone(this.state);
  }

  /** The snapshot when it changed since the last call (then clears the flag), else undefined. */
  takeChanges(): CounterSnapshot | undefined {
    if (!this.dirty) return undefined;
    this.dirty = false;
    return this.snapshot();
  }

  private add(place: Exclude<Place, null>, priority: Priority, delta: number): void {
    const c = this.state.counts;
    if (place === "ready") c.ready[priority] += delta;
    else c[place] += delta;
  }
}
