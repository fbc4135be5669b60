/**
 * The task rows as the streaming consumers and the operator controls need them: every statement
 * of {@link TaskStore}, with each lease that ends (ack, nack, expiry) or moves (extension) told to
 * a {@link LeaseObserver} so that a socket's credit follows its tasks whatever path settled them;
 * plus the paused flag, the leases pushed to sockets, and deleting the whole queue.
 */
import { emptySnapshot } from "../logic/queue-counters.ts";
import { TaskStore } from "./task-store.ts";

/** Told about leases that end or move, by whatever operation. */
export interface LeaseObserver {
  leaseEnded(seq: number): void;
  leaseExtended(seq: number, leaseExpiresAt: number): void;
}

/** A lease handed out to a socket, as the rebuild after hibernation reads it. */
export interface PushedLease extends Record<string, SqlStorageValue> {
  seq: number;
  lease_id: string;
  lease_expires_at: number;
}

export class StreamStore extends TaskStore {
  /** Set once by the consumers (the store is made before them). */
  observer: LeaseObserver | undefined;

  override completeHeld(
    acks: ReadonlyArray<{ seq: number; leaseId: string; result: string | null }>,
    now: number,
  ): Array<{ seq: number; priority: number }> {
    const done = super.completeHeld(acks, now);
    for (const { seq } of done) this.observer?.leaseEnded(seq);
    return done;
  }

  override requeue(seq: number, state: "ready" | "delayed", availableAt: number, lastError: string | null) {
    super.requeue(seq, state, availableAt, lastError);
    this.observer?.leaseEnded(seq);
  }

  override bury(seq: number, lastError: string | null, now: number): void {
    super.bury(seq, lastError, now);
    this.observer?.leaseEnded(seq);
  }

  override extendLease(seq: number, leaseExpiresAt: number): void {
    super.extendLease(seq, leaseExpiresAt);
    this.observer?.leaseExtended(seq, leaseExpiresAt);
  }

  /** Whether the queue is paused. */
  paused(): boolean {
    return this.sql.one<{ paused: number }>("SELECT paused FROM queue_meta WHERE id = 1")?.paused === 1;
  }

  setPaused(paused: boolean): void {
    this.sql.run("UPDATE queue_meta SET paused = ? WHERE id = 1", paused ? 1 : 0);
  }

  /** Live leases whose id starts with `prefix` (the sockets' leases), straight off the leased index. */
  leasesWithPrefix(prefix: string): PushedLease[] {
    return this.sql.all<PushedLease>(
      `SELECT seq, lease_id, lease_expires_at FROM tasks
       WHERE state = 'leased' AND substr(lease_id, 1, ?) = ?
       ORDER BY lease_expires_at`,
      prefix.length,
      prefix,
    );
  }

  /**
   * Removes every task, the counters, the alarm time and the paused flag. The sequence of task ids
   * goes on (AUTOINCREMENT), so an id of a deleted task never names a later one.
   */
  deleteAll(): void {
    const sql = this.sql;
    sql.run("DELETE FROM tasks");
    sql.run(
      "UPDATE queue_meta SET counters = ?, alarm_at = NULL, paused = 0 WHERE id = 1",
      JSON.stringify(emptySnapshot()),
    );
  }
}
