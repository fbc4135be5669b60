/**
 * The rows of flows in one queue. A waiting parent has a `flow_parents` row (children not yet
 * ended, its policy) and one `flow_children` row per child (filled in as each ends). A child has a
 * `flow_links` row naming its parent: a trigger on the task's end turns it into a `flow_outbox`
 * row in the same transaction, so no ack path knows about flows and no end is lost. Outbox rows
 * for another queue (child creations, child ends) are delivered by RPC until acknowledged; rows
 * for this queue are applied at once.
 */
import type { Sql } from "../lib/sql.ts";
import type { ChildEnd, ChildFailurePolicy, EndedChild } from "../logic/flow-rules.ts";

/**
 * The flow tables: one migration step of the queue's schema (see `QUEUE_SCHEMA`). `waiting` is a
 * task state from here on: listed by its own index and, like a ready task, it holds its dedup key.
 */
export const FLOWS_SCHEMA = `ALTER TABLE tasks ADD COLUMN child_results TEXT;
   CREATE INDEX tasks_waiting ON tasks (seq) WHERE state = 'waiting';
   DROP INDEX tasks_dedup;
   CREATE UNIQUE INDEX tasks_dedup ON tasks (dedup_key)
     WHERE dedup_key IS NOT NULL AND state IN ('ready', 'delayed', 'leased', 'waiting');
   CREATE TABLE flow_parents (
     seq INTEGER PRIMARY KEY,
     pending INTEGER NOT NULL,
     policy TEXT NOT NULL
   );
   CREATE TABLE flow_children (
     parent_seq INTEGER NOT NULL,
     position INTEGER NOT NULL,
     queue TEXT NOT NULL,
     child_id TEXT,
     state TEXT,
     result TEXT,
     error TEXT,
     PRIMARY KEY (parent_seq, position)
   ) WITHOUT ROWID;
   CREATE TABLE flow_links (
     child_seq INTEGER PRIMARY KEY,
     parent_queue TEXT NOT NULL,
     parent_seq INTEGER NOT NULL,
     position INTEGER NOT NULL,
     open INTEGER NOT NULL DEFAULT 1
   );
   CREATE UNIQUE INDEX flow_links_parent ON flow_links (parent_queue, parent_seq, position);
   CREATE INDEX flow_links_open ON flow_links (child_seq) WHERE open = 1;
   CREATE TABLE flow_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     target TEXT NOT NULL,
     body TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX flow_outbox_due ON flow_outbox (next_at) WHERE target <> '';
   CREATE TRIGGER flow_child_ended AFTER UPDATE OF state ON tasks
     WHEN NEW.state IN ('completed', 'dead') AND OLD.state <> NEW.state
   BEGIN
     INSERT INTO flow_outbox (kind, target, body)
       SELECT 'ended', parent_queue,
         json_object('parentSeq', parent_seq, 'position', position, 'id', CAST(NEW.seq AS TEXT),
           'state', NEW.state, 'result', NEW.result, 'error', NEW.last_error)
       FROM flow_links WHERE child_seq = NEW.seq AND open = 1;
     UPDATE flow_links SET open = 0 WHERE child_seq = NEW.seq AND open = 1;
   END;
   CREATE TRIGGER flow_child_deleted AFTER DELETE ON tasks
   BEGIN
     DELETE FROM flow_links WHERE child_seq = OLD.seq;
   END;`;

/** Where a child sits under its parent: the parent's queue ('' for this one), seq and position. */
export interface ChildLink {
  parentQueue: string;
  parentSeq: number;
  position: number;
}

/** A child's end as it travels to its parent (`result` as JSON text). */
export interface ChildEnded {
  parentSeq: number;
  position: number;
  id: string;
  state: ChildEnd;
  result: string | null;
  error: string | null;
}

/** An outbox row that goes to another queue. */
export interface OutboxRow extends Record<string, SqlStorageValue> {
  id: number;
  kind: "create" | "ended";
  target: string;
  body: string;
  attempts: number;
}

export class FlowStore {
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Records a waiting parent and its children (their queues, and ids where known already). */
  addParent(
    seq: number,
    policy: ChildFailurePolicy,
    children: ReadonlyArray<{ queue: string; id: string | null }>,
  ): void {
    this.sql.run(
      "INSERT INTO flow_parents (seq, pending, policy) VALUES (?, ?, ?)",
      seq,
      children.length,
      policy,
    );
    this.sql.run(
      `INSERT INTO flow_children (parent_seq, position, queue, child_id)
       SELECT ?, key, value ->> 0, value ->> 1 FROM json_each(?)`,
      seq,
      JSON.stringify(children.map((c) => [c.queue, c.id])),
    );
  }

  /** Notes a child's id under its parent (a child created in another queue learns it late). */
  setChildId(parentSeq: number, position: number, id: string): void {
    this.sql.run(
      "UPDATE flow_children SET child_id = ? WHERE parent_seq = ? AND position = ?",
      id,
      parentSeq,
      position,
    );
  }

  /** Links child tasks to their parents, in one statement. */
  link(links: ReadonlyArray<ChildLink & { childSeq: number }>): void {
    if (links.length === 0) return;
    this.sql.run(
      `INSERT INTO flow_links (child_seq, parent_queue, parent_seq, position)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
      JSON.stringify(links.map((l) => [l.childSeq, l.parentQueue, l.parentSeq, l.position])),
    );
  }

  /** The child already created at `at` (a creation delivered again), while its task is kept. */
  linked(at: ChildLink): number | undefined {
    return this.sql.one<{ child_seq: number }>(
      "SELECT child_seq FROM flow_links WHERE parent_queue = ? AND parent_seq = ? AND position = ?",
      at.parentQueue,
      at.parentSeq,
      at.position,
    )?.child_seq;
  }

  /**
   * Task `seq`, about to be deleted, dies with `error` if a flow parent waits for it, so that the
   * end trigger writes its end for the parent as for any dead child.
   */
  endBeforeDelete(seq: number, error: string): void {
    this.sql.run(
      `UPDATE tasks SET state = 'dead', last_error = ?
       WHERE seq = ? AND seq IN (SELECT child_seq FROM flow_links WHERE open = 1)`,
      error,
      seq,
    );
  }

  /** The direct children of a parent as far as they are known: queue and id (null while unknown). */
  childrenOf(parentSeq: number): Array<{ queue: string; id: string | null }> {
    return this.sql
      .all<{ queue: string; child_id: string | null }>(
        "SELECT queue, child_id FROM flow_children WHERE parent_seq = ? ORDER BY position",
        parentSeq,
      )
      .map((r) => ({ queue: r.queue, id: r.child_id }));
  }

  /**
   * Records a child's end once: false when it was recorded before (a message delivered twice) or
   * the parent no longer waits. Then the parent's pending count and policy.
   */
  recordEnd(ended: ChildEnded): { pending: number; policy: ChildFailurePolicy; queue: string } | undefined {
    const row = this.sql.one<{ queue: string }>(
      `UPDATE flow_children SET state = ?, result = ?, error = ?, child_id = ?
       WHERE parent_seq = ? AND position = ? AND state IS NULL
       RETURNING queue`,
      ended.state,
      ended.result,
      ended.error,
      ended.id,
      ended.parentSeq,
      ended.position,
    );
    if (!row) return undefined;
    const parent = this.sql.one<{ pending: number; policy: ChildFailurePolicy }>(
      "UPDATE flow_parents SET pending = pending - 1 WHERE seq = ? RETURNING pending + 1 AS pending, policy",
      ended.parentSeq,
    );
    return parent && { ...parent, queue: row.queue };
  }

  /** The ended children of a parent in order, and forgets the parent's flow rows. */
  takeChildren(parentSeq: number): EndedChild[] {
    const rows = this.sql.all<{
      queue: string;
      child_id: string | null;
      state: ChildEnd;
      result: string | null;
      error: string | null;
    }>(
      "SELECT queue, child_id, state, result, error FROM flow_children WHERE parent_seq = ? ORDER BY position",
      parentSeq,
    );
    this.forget(parentSeq);
    return rows.map((r) => ({
      queue: r.queue,
      id: r.child_id ?? "",
      state: r.state,
      result: r.result,
      error: r.error,
    }));
  }

  /** Forgets a parent's flow rows (it no longer waits). */
  forget(parentSeq: number): void {
    this.sql.run("DELETE FROM flow_children WHERE parent_seq = ?", parentSeq);
    this.sql.run("DELETE FROM flow_parents WHERE seq = ?", parentSeq);
  }

  /** A waiting parent becomes ready now, carrying its children's results; returns its priority. */
  release(seq: number, childResults: string, now: number): number | undefined {
    return this.endWait(seq, "state = 'ready', available_at = ?, child_results = ?", now, childResults);
  }

  /** A waiting parent dies (a child failed it); returns its priority. Its own parent hears of it by the trigger. */
  failWaiting(seq: number, lastError: string, now: number): number | undefined {
    return this.endWait(seq, "state = 'dead', finished_at = ?, last_error = ?", now, lastError);
  }

  /**
   * Takes a parent out of `waiting` with `assignments` (a fixed SET clause of ours with two
   * placeholders, for `now` and `text`); returns its priority, or undefined when it was not waiting.
   */
  private endWait(seq: number, assignments: string, now: number, text: string): number | undefined {
    return this.sql.one<{ priority: number }>(
      `UPDATE tasks SET ${assignments} WHERE seq = ? AND state = 'waiting' RETURNING priority`,
      now,
      text,
      seq,
    )?.priority;
  }

  /** Adds an outbox row for another queue, due at once. */
  send(kind: "create", target: string, body: string): number {
    return this.sql.one<{ id: number }>(
      "INSERT INTO flow_outbox (kind, target, body) VALUES (?, ?, ?) RETURNING id",
      kind,
      target,
      body,
    )?.id as number;
  }

  /** Up to `limit` child ends for parents in this queue, oldest first, taken off the outbox. */
  takeLocalEnds(limit: number): ChildEnded[] {
    return this.sql
      .all<{ body: string }>(
        `DELETE FROM flow_outbox WHERE id IN (SELECT id FROM flow_outbox WHERE target = '' ORDER BY id LIMIT ?)
         RETURNING body`,
        limit,
      )
      .map((r) => JSON.parse(r.body) as ChildEnded);
  }

  /**
   * Up to `limit` rows for other queues due by `now`, each put off to its `retryAt` in the same
   * statement: a delivery that never answers (the object restarted) is tried again then.
   */
  claimDue(now: number, limit: number, retryAt: (attempts: number) => number): OutboxRow[] {
    const rows = this.sql.all<OutboxRow>(
      `SELECT id, kind, target, body, attempts FROM flow_outbox WHERE target <> '' AND next_at <= ?
       ORDER BY next_at, id LIMIT ?`,
      now,
      limit,
    );
    if (rows.length === 0) return rows;
    this.sql.run(
      `UPDATE flow_outbox SET attempts = attempts + 1, next_at = claim.value ->> 1
       FROM json_each(?) AS claim WHERE flow_outbox.id = claim.value ->> 0`,
      JSON.stringify(rows.map((r) => [r.id, retryAt(r.attempts + 1)])),
    );
    return rows;
  }

  /** Drops delivered outbox rows. */
  delivered(ids: readonly number[]): void {
    this.sql.run("DELETE FROM flow_outbox WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids));
  }

  /** When the next delivery to another queue is due, or null. */
  earliest(): number | null {
    return (
      this.sql.one<{ at: number }>(
        "SELECT next_at AS at FROM flow_outbox WHERE target <> '' ORDER BY next_at LIMIT 1",
      )?.at ?? null
    );
  }

  /**
   * Whether any flow work can arise here: a child not yet ended, a parent waiting, or an outbox
   * row. While none, the object skips every flow statement.
   */
  active(): boolean {
    return (
      this.sql.one<{ active: number }>(
        `SELECT EXISTS (SELECT 1 FROM flow_links WHERE open = 1)
           OR EXISTS (SELECT 1 FROM flow_parents) OR EXISTS (SELECT 1 FROM flow_outbox) AS active`,
      )?.active === 1
    );
  }

  /**
   * A queue deletion's share, in its transaction and before the tasks go. Each child not yet ended
   * whose parent lives in another queue dies with `error`, so the end trigger writes its outbox row
   * as for any dead child; ends already waiting for other queues stay. What served this queue's
   * own parents goes: their rows, the ends for them and the creations not yet delivered. The
   * outbox left drains as usual.
   */
  deleteAll(error: string): void {
    this.sql.run(
      `UPDATE tasks SET state = 'dead', last_error = ?
       WHERE seq IN (SELECT child_seq FROM flow_links WHERE open = 1 AND parent_queue <> '')`,
      error,
    );
    this.sql.run("DELETE FROM flow_outbox WHERE kind = 'create' OR target = ''");
    for (const table of ["flow_parents", "flow_children", "flow_links"]) {
      this.sql.run(`DELETE FROM ${table}`);
    }
  }
}
