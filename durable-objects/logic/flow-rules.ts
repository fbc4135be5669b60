/**
 * The rules of flows (a parent task that waits for its children), free of storage: how big a
 * tree may be, what a child's end does to its waiting parent, and how the children's results are
 * handed to the parent within a byte budget. The queue object keeps the rows (`queue/flow-store.ts`).
 */

/** Deepest a flow tree may be: the parent is level 1. */
export const MAX_FLOW_DEPTH = 8;
/** Most tasks (parents included) one flow, or one batch of flows, may create. */
export const MAX_FLOW_NODES = 1000;
/** Most flows in one batch: each is at least a parent and one child, so {@link MAX_FLOW_NODES} allow no more. */
export const MAX_FLOWS_PER_BATCH = MAX_FLOW_NODES / 2;
/**
 * Most bytes of child results one parent carries in its lease and task info; past it a child's
 * entry says `resultOmitted` and its result is read from the child task itself.
 */
export const MAX_CHILD_RESULTS_BYTES = 1024 * 1024;

/** What a dead child does to its parent: `fail` makes the parent dead, `ignore` counts it as done. */
export const CHILD_FAILURE_POLICIES = ["fail", "ignore"] as const;
export type ChildFailurePolicy = (typeof CHILD_FAILURE_POLICIES)[number];

/** How a child ended: the states a child reports to its parent. */
export type ChildEnd = "completed" | "dead";

/** A node of a flow tree, as far as its shape goes. */
export interface TreeShape {
  children?: readonly TreeShape[] | undefined;
}

/** How many tasks a tree creates and how deep it goes (a lone node: 1 and 1). */
export function treeSize(node: TreeShape): { nodes: number; depth: number } {
  let nodes = 1;
  let depth = 1;
  for (const child of node.children ?? []) {
    const sub = treeSize(child);
    nodes += sub.nodes;
    depth = Math.max(depth, sub.depth + 1);
  }
  return { nodes, depth };
}

/** What a waiting parent does after one more child ended: keep waiting, become ready, or die. */
export type ParentStep = "wait" | "release" | "fail";

/**
 * The parent's next step when a child ends as `end` and `pending` children (this one included)
 * had not ended before it.
 */
export function afterChild(pending: number, policy: ChildFailurePolicy, end: ChildEnd): ParentStep {
  if (end === "dead" && policy === "fail") return "fail";
  return pending <= 1 ? "release" : "wait";
}

/** One ended child as its parent records it (result and error as stored JSON text and text). */
export interface EndedChild {
  queue: string;
  id: string;
  state: ChildEnd;
  /** The child's result as JSON text, or null when it has none. */
  result: string | null;
  error: string | null;
}

/**
 * The JSON text of the parent's `childResults`, in the children's order: each child's queue, id
 * and state, its result while the results so far fit in `budget` bytes (else `resultOmitted`),
 * and a dead child's last error.
 */
export function childResultsText(children: readonly EndedChild[], budget: number): string {
  let spent = 0;
  const items = children.map((c) => {
    let text = JSON.stringify({ queue: c.queue, id: c.id, state: c.state }).slice(0, -1);
    if (c.error !== null) text += `,"error":${JSON.stringify(c.error)}`;
    if (c.result !== null) {
      const bytes = new TextEncoder().encode(c.result).length;
      if (spent + bytes <= budget) {
        spent += bytes;
        text += `,"result":${c.result}`;
      } else {
        text += `,"resultOmitted":true`;
      }
    }
    return `${text}}`;
  });
  return `[${items.join(",")}]`;
}

/** The `lastError` of a parent that died because of a child. */
export const childFailure = (child: { queue: string; id: string; error: string | null }): string =>
  `child ${child.queue}/${child.id} is dead${child.error === null ? "" : `: ${child.error}`}`;

/**
 * The `error` a child removed by its queue's deletion reaches its parent with: it counts as a
 * child that died, so the parent follows its policy (see `childFailure`).
 */
export const queueDeleted = (queue: string): string => `queue ${queue} was deleted`;

/**
 * The `error` a flow child deleted before it ran reaches its parent with: it counts as a child that
 * died, so the parent follows its policy.
 */
export const TASK_DELETED = "deleted before it ran";

/** How long a failed delivery between queue objects waits before the next try: 1 s doubling to 1 min. */
export const redeliveryDelay = (attempts: number): number =>
  Math.min(60_000, 1_000 * 2 ** Math.max(0, attempts - 1));
