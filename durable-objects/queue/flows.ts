/**
 * A queue's part in flows: planting a tree (the parent waits, children in this queue are created
 * in the same transaction, children in other queues go to the outbox), recording each child's end
 * once and moving its parent on (`logic/flow-rules.ts` decides), and delivering the outbox to the
 * other queues' objects until they acknowledge. The queue object runs every synchronous call
 * inside its transaction and gives the hooks that keep its counters and alarm right.
 */
import type { Result } from "../../shared/errors.ts";
import type { FlowChildOutput, FlowNodeInput } from "../../shared/schemas/queue-flow.ts";
import {
  afterChild,
  type ChildFailurePolicy,
  childFailure,
  childResultsText,
  MAX_CHILD_RESULTS_BYTES,
  MAX_FLOW_NODES,
  queueDeleted,
  redeliveryDelay,
  TASK_DELETED,
} from "../logic/flow-rules.ts";
import { priorityRank } from "../logic/queue-rules.ts";
import type { ChildEnded, ChildLink, FlowStore, OutboxRow } from "./flow-store.ts";
import type { NewTask } from "./task-store.ts";

/** A flow node with its payload as stored JSON text (the root alone may hold a dedup key). */
export type PlantedNode = Omit<FlowNodeInput, "children" | "payload"> & {
  payloadText: string;
  dedupKey?: string | undefined;
  children?: PlantedNode[] | undefined;
};

/** What the flows need of the queue object inside its transaction. */
export interface FlowHooks {
  /** Inserts tasks (counted, the alarm woken for a delay); returns their seqs in order. */
  insert(rows: readonly NewTask[]): number[];
  /** The waiting parent `seq` became ready (`to` "ready") or dead. */
  unblocked(seq: number, priority: number, to: "ready" | "dead"): void;
  /** Work falls due at `time`: the alarm must ring by then. */
  wakeAt(time: number): void;
}

/** A child to create in another queue: where it sits under its parent, and its subtree. */
export interface FlowCreation {
  link: ChildLink;
  node: PlantedNode;
}

/** The queue objects as a flow reaches them (`env.QUEUES.getByName`). */
export interface FlowPeer {
  /** Creates the children (each once: one already created at its link is answered as it is), in order. */
  flowCreateAll(creations: FlowCreation[]): Promise<Result<FlowChildOutput[]>>;
  flowEnded(ends: ChildEnded[]): Promise<Result<{ applied: number }>>;
}

/** Most local ends one drain step applies. */
const STEP = 500;
/**
 * Most outbox rows one step claims for sending: all that one operation writes (a flow or a batch
 * of flows at most 999 creations, an ack batch at most 1,000 ends), so that its answer waits for
 * them all.
 */
const CLAIM = MAX_FLOW_NODES;
/**
 * Most row text one delivery call carries (at least one row): the rows for one queue go in as
 * few calls as that allows, well under the 32 MiB of an RPC message.
 */
const CALL_BYTES = 4 * 1024 * 1024;

/** The task row of a flow node: waiting when it has children, else ready or delayed. */
function taskOf(node: PlantedNode, now: number): NewTask {
  const waits = (node.children?.length ?? 0) > 0;
  return {
    state: waits ? "waiting" : node.delayMs > 0 ? "delayed" : "ready",
    priority: priorityRank(node.priority),
    payload: node.payloadText,
    maxAttempts: node.maxAttempts,
    enqueuedAt: now,
    availableAt: now + (waits ? 0 : node.delayMs),
    dedupKey: node.dedupKey ?? null,
  };
}

export class QueueFlows {
  private readonly store: FlowStore;
  /** False while no flow row exists here: every flow statement is skipped (see {@link FlowStore.active}). */
  private active = false;
  /**
   * The answers of flow calls still waiting for children in other queues: each placeholder, by its
   * outbox row, is filled in place when the row is acknowledged.
   */
  readonly awaited = new Map<number, FlowChildOutput>();

  constructor(store: FlowStore) {
    this.store = store;
  }

  load(): void {
    this.active = this.store.active();
  }

  /**
   * Creates `node` in queue `queue` (this one) under `link`: a task, waiting when it has children;
   * its children here at once, recursively; those elsewhere as outbox rows. Answers the tree of
   * ids, `id: null` for the children not created yet (filled in as they are: see {@link awaited}).
   */
  plant(
    queue: string,
    node: PlantedNode,
    link: ChildLink | null,
    now: number,
    hooks: FlowHooks,
  ): FlowChildOutput {
    this.active = true;
    const seq = hooks.insert([taskOf(node, now)])[0] as number;
    if (link) this.store.link([{ childSeq: seq, ...link }]);
    return this.grow(queue, node, seq, now, hooks);
  }

  /**
   * Creates the children of `node` (stored as `seq`): those of this queue in one statement (and
   * their own children, level by level), the others as outbox rows.
   */
  private grow(
    queue: string,
    node: PlantedNode,
    seq: number,
    now: number,
    hooks: FlowHooks,
  ): FlowChildOutput {
    const out: FlowChildOutput = { queue, id: String(seq) };
    const children = node.children ?? [];
    if (children.length === 0) return out;
    const queues = children.map((c) => c.queue ?? queue);
    const here = children.flatMap((child, position) =>
      queues[position] === queue ? [{ child, position }] : [],
    );
    const seqs = hooks.insert(here.map(({ child }) => taskOf(child, now)));
    this.store.link(
      here.map(({ position }, k) => ({
        childSeq: seqs[k] as number,
        parentQueue: "",
        parentSeq: seq,
        position,
      })),
    );
    const local = new Map(here.map(({ position }, k) => [position, seqs[k] as number]));
    this.store.addParent(
      seq,
      node.onChildFailure,
      queues.map((q, position) => ({
        queue: q,
        id: local.has(position) ? String(local.get(position)) : null,
      })),
    );
    out.children = children.map((child, position) => {
      const childSeq = local.get(position);
      if (childSeq !== undefined) return this.grow(queue, child, childSeq, now, hooks);
      const at = queues[position] as string;
      const body: FlowCreation = { link: { parentQueue: queue, parentSeq: seq, position }, node: child };
      const placeholder: FlowChildOutput = { queue: at, id: null };
      this.awaited.set(this.store.send("create", at, JSON.stringify(body)), placeholder);
      return placeholder;
    });
    return out;
  }

  /**
   * Inside the transaction that deletes task `seq`: a parent waiting for it hears of it as a dead
   * child (`TASK_DELETED`) and follows its policy; the end goes out with the step after it.
   */
  deleting(seq: number): void {
    this.store.endBeforeDelete(seq, TASK_DELETED);
  }

  /** The child already created at `link` (a creation delivered again), with its known children. */
  existing(queue: string, link: ChildLink): FlowChildOutput | undefined {
    const seq = this.store.linked(link);
    if (seq === undefined) return undefined;
    const children = this.store.childrenOf(seq);
    return { queue, id: String(seq), ...(children.length > 0 ? { children } : {}) };
  }

  /**
   * Records child ends (each once: a repeated one changes nothing) and moves their parents on:
   * the last child makes a parent ready with the children's results; a dead child under `fail`
   * makes it dead. Returns how many ends were new.
   */
  applyEnds(ends: readonly ChildEnded[], now: number, hooks: FlowHooks): number {
    let applied = 0;
    for (const end of ends) {
      const parent = this.store.recordEnd(end);
      if (!parent) continue;
      applied++;
      const step = afterChild(parent.pending, parent.policy as ChildFailurePolicy, end.state);
      if (step === "wait") continue;
      if (step === "fail") {
        this.store.forget(end.parentSeq);
        const failed = this.store.failWaiting(
          end.parentSeq,
          childFailure({ queue: parent.queue, ...end }),
          now,
        );
        if (failed !== undefined) hooks.unblocked(end.parentSeq, failed, "dead");
        continue;
      }
      const results = childResultsText(this.store.takeChildren(end.parentSeq), MAX_CHILD_RESULTS_BYTES);
      const released = this.store.release(end.parentSeq, results, now);
      if (released !== undefined) hooks.unblocked(end.parentSeq, released, "ready");
    }
    return applied;
  }

  /**
   * Inside the running transaction: applies the ends of children whose parents are in this queue
   * (a parent's own end may follow, so until none is left), then claims the rows for other queues
   * that are due, for the caller to send once the transaction commits. Each claimed row is put
   * off to its retry time in the same transaction, so a send lost with the object is tried again
   * by the alarm. Costs nothing while no flow row exists here.
   */
  step(now: number, hooks: FlowHooks): OutboxRow[] {
    if (!this.active) return [];
    let found = false;
    for (let ends = this.store.takeLocalEnds(STEP); ends.length > 0; ends = this.store.takeLocalEnds(STEP)) {
      found = true;
      this.applyEnds(ends, now, hooks);
    }
    const claimed = this.store.claimDue(now, CLAIM, (attempts) => now + redeliveryDelay(attempts));
    const next = this.store.earliest();
    if (next !== null) hooks.wakeAt(next);
    else if (!found) this.active = this.store.active();
    return claimed;
  }

  /** When the next delivery to another queue is due (the alarm's share), or null. */
  earliest(): number | null {
    return this.active ? this.store.earliest() : null;
  }

  /**
   * Sends claimed rows to their queues, the creations and the ends for one queue in as few calls
   * as {@link CALL_BYTES} allow; answers the ids of the rows acknowledged and what each
   * acknowledged creation answered. The rows of a call that failed stay for their retry.
   */
  async send(
    rows: readonly OutboxRow[],
    peer: (queue: string) => FlowPeer,
  ): Promise<{
    done: number[];
    created: Array<{ row: number; body: FlowCreation; child: FlowChildOutput }>;
  }> {
    const done: number[] = [];
    const created: Array<{ row: number; body: FlowCreation; child: FlowChildOutput }> = [];
    const sends = callsOf(rows).map(async ({ kind, target, group }) => {
      try {
        if (kind === "ended") {
          const answer = await peer(target).flowEnded(group.map((r) => JSON.parse(r.body) as ChildEnded));
          if (!answer.ok) return logFailure(group, answer.error.message);
          done.push(...group.map((r) => r.id));
          return;
        }
        const bodies = group.map((r) => JSON.parse(r.body) as FlowCreation);
        const answer = await peer(target).flowCreateAll(bodies);
        if (!answer.ok) return logFailure(group, answer.error.message);
        group.forEach((r, k) => {
          const child = answer.value[k];
          if (!child) return;
          done.push(r.id);
          created.push({ row: r.id, body: bodies[k] as FlowCreation, child });
        });
      } catch (err) {
        logFailure(group, err);
      }
    });
    await Promise.all(sends);
    return { done, created };
  }

  /** Inside a transaction: drops acknowledged rows and notes the ids of children created elsewhere. */
  acknowledge(
    done: readonly number[],
    created: ReadonlyArray<{ row: number; body: FlowCreation; child: FlowChildOutput }>,
  ): void {
    for (const { row, body, child } of created) {
      if (child.id !== null) this.store.setChildId(body.link.parentSeq, body.link.position, child.id);
      const placeholder = this.awaited.get(row);
      if (placeholder) Object.assign(placeholder, child);
      this.awaited.delete(row);
    }
    if (done.length > 0) this.store.delivered(done);
  }

  /**
   * Inside the transaction that deletes queue `queue`, before its tasks go: its unfinished
   * children of parents in other queues end as dead ({@link queueDeleted}); only the outbox for
   * other queues is kept, to be delivered as usual (see {@link FlowStore.deleteAll}).
   */
  deleteAll(queue: string): void {
    this.store.deleteAll(queueDeleted(queue));
    this.awaited.clear();
    this.active = this.store.active();
  }
}

/**
 * The calls that deliver `rows`: per kind and target queue, in row order, each call up to
 * {@link CALL_BYTES} of row text (a larger row goes alone).
 */
function callsOf(
  rows: readonly OutboxRow[],
): Array<{ kind: OutboxRow["kind"]; target: string; group: OutboxRow[] }> {
  const calls: Array<{ kind: OutboxRow["kind"]; target: string; group: OutboxRow[]; bytes: number }> = [];
  const open = new Map<string, (typeof calls)[number]>();
  for (const row of rows) {
    const key = `${row.kind} ${row.target}`;
    let call = open.get(key);
    if (!call || call.bytes + row.body.length > CALL_BYTES) {
      call = { kind: row.kind, target: row.target, group: [], bytes: 0 };
      calls.push(call);
      open.set(key, call);
    }
    call.group.push(row);
    call.bytes += row.body.length;
  }
  return calls.map(({ kind, target, group }) => ({ kind, target, group }));
}

function logFailure(group: readonly OutboxRow[], err: unknown): void {
  const first = group[0] as OutboxRow;
  console.warn(
    `queue flows: delivery of ${group.length} ${first.kind} row(s) to ${first.target} failed (try ${first.attempts + 1}), retried later`,
    err,
  );
}
