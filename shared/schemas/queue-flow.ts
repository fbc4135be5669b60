/**
 * Schemas of flows: `POST /v1/queues/{queue}/flows`, a parent task with children that it waits
 * for, or a batch of them.
 */
import { z } from "@hono/zod-openapi";
import {
  CHILD_FAILURE_POLICIES,
  MAX_FLOW_DEPTH,
  MAX_FLOW_NODES,
  MAX_FLOWS_PER_BATCH,
  treeSize,
} from "../../durable-objects/logic/flow-rules.ts";
import { NAME_PATTERN } from "./common.ts";
import { type JsonValue, MAX_BATCH, TaskInput } from "./queue.ts";

const OnChildFailure = z.enum(CHILD_FAILURE_POLICIES).openapi({
  description:
    "What a dead child does to this task: `fail` makes it dead (its `lastError` names the child), `ignore` counts the child as done (without a result)",
});

/** A child's own fields, as a task's (a child has no dedup key: its identity comes from its parent). */
const ChildTask = TaskInput.omit({ dedupKey: true });

/**
 * A child of a flow, as validated: a task in this queue or `queue`, itself the parent of
 * `children` when given. Written out (not inferred) because the schema is recursive; the schema's
 * annotation below checks that the two agree.
 */
export interface FlowNodeInput {
  queue?: string | undefined;
  payload: JsonValue;
  priority: "low" | "normal" | "high" | "critical";
  delayMs: number;
  maxAttempts: number;
  onChildFailure: "fail" | "ignore";
  children?: FlowNodeInput[] | undefined;
}

/** A child as a caller may send it (defaults still optional). */
export interface FlowNodeRequest {
  queue?: string | undefined;
  payload: unknown;
  priority?: "low" | "normal" | "high" | "critical" | undefined;
  delayMs?: number | undefined;
  maxAttempts?: number | undefined;
  onChildFailure?: "fail" | "ignore" | undefined;
  children?: FlowNodeRequest[] | undefined;
}

export const FlowNode: z.ZodType<FlowNodeInput, FlowNodeRequest> = ChildTask.extend({
  queue: z.string().regex(NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$").optional().openapi({
    description: "The child's queue; the flow's queue when absent",
  }),
  onChildFailure: OnChildFailure.default("fail"),
  get children() {
    return z.array(FlowNode).min(1).max(MAX_BATCH).optional().openapi({
      description: "This child's own children: it waits for them as the parent waits for it",
    });
  },
})
  .superRefine((node, ctx) => {
    if (node.children !== undefined && node.delayMs > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["delayMs"],
        message: "only a child without children may be delayed",
      });
    }
  })
  .openapi("FlowNode");

/**
 * `POST .../flows`: the parent (a task of this queue, without a delay: it becomes ready when its
 * children are done) and its children, nested up to {@link MAX_FLOW_DEPTH} levels and
 * {@link MAX_FLOW_NODES} tasks in all.
 */
export const FlowRequest = z
  .strictObject({
    parent: TaskInput.omit({ delayMs: true }),
    children: z.array(FlowNode).min(1).max(MAX_BATCH),
    onChildFailure: OnChildFailure.default("fail"),
  })
  .superRefine((flow, ctx) => {
    const { nodes, depth } = treeSize(flow);
    if (nodes > MAX_FLOW_NODES) {
      ctx.addIssue({
        code: "custom",
        path: ["children"],
        message: `a flow holds at most ${MAX_FLOW_NODES} tasks`,
      });
    }
    if (depth > MAX_FLOW_DEPTH) {
      ctx.addIssue({
        code: "custom",
        path: ["children"],
        message: `a flow nests at most ${MAX_FLOW_DEPTH} levels`,
      });
    }
  })
  .openapi("FlowRequest");

/** Where a created child is: its queue and id (null until its queue took it), and its own children. */
export interface FlowChildOutput {
  queue: string;
  id: string | null;
  children?: FlowChildOutput[];
}

export const FlowChild: z.ZodType<FlowChildOutput> = z
  .object({
    queue: z.string(),
    id: z.string().nullable().openapi({
      description:
        "The child's task id in its queue; null when that queue could not be reached in time: the child is created by retries (see docs/queue.md)",
    }),
    get children() {
      return z.array(FlowChild).optional();
    },
  })
  .openapi("FlowChild");

export const FlowCreated = z
  .object({
    id: z.string().openapi({ description: "The parent's task id (it waits until its children are done)" }),
    children: z
      .array(FlowChild)
      .openapi({ description: "The children in the order given; empty when `deduplicated`" }),
    deduplicated: z.boolean().optional().openapi({
      description:
        "True when the parent's dedup key was held by a live task: its id is answered, nothing is created",
    }),
  })
  .openapi("FlowCreated");

/**
 * `{"flows": [...]}`: up to {@link MAX_FLOWS_PER_BATCH} flows created in one transaction, holding
 * at most {@link MAX_FLOW_NODES} tasks in all (each flow's own limits hold as well).
 */
export const FlowBatch = z
  .strictObject({ flows: z.array(FlowRequest).min(1).max(MAX_FLOWS_PER_BATCH) })
  .superRefine((batch, ctx) => {
    const nodes = batch.flows.reduce((sum, flow) => sum + treeSize(flow).nodes, 0);
    if (nodes > MAX_FLOW_NODES) {
      ctx.addIssue({
        code: "custom",
        path: ["flows"],
        message: `a batch of flows holds at most ${MAX_FLOW_NODES} tasks in all (parents and children)`,
      });
    }
  })
  .openapi("FlowBatch");

/** One flow, or `{"flows": [...]}`; see {@link flowSchemaFor} for validation. */
export const EnqueueFlowRequest = z.union([FlowBatch, FlowRequest]).openapi("EnqueueFlowRequest");

/**
 * The branch of {@link EnqueueFlowRequest} a body means: a batch when it has `flows`. Validating
 * against that branch alone names the offending field (`flows.3.children.0.payload`).
 */
export function flowSchemaFor(body: unknown): typeof FlowBatch | typeof FlowRequest {
  return typeof body === "object" && body !== null && "flows" in body ? FlowBatch : FlowRequest;
}

export const FlowBatchCreated = z
  .object({
    flows: z.array(FlowCreated).openapi({ description: "One answer per flow, in the order given" }),
  })
  .openapi("FlowBatchCreated");

/** The answer to one flow (`FlowCreated`) or to a batch (`{"flows": [FlowCreated, ...]}`). */
export const FlowsEnqueued = z.union([FlowBatchCreated, FlowCreated]).openapi("FlowsEnqueued");

export type FlowInput = z.output<typeof FlowRequest>;
export type FlowRequestInput = z.input<typeof FlowRequest>;
export type FlowCreatedOutput = z.output<typeof FlowCreated>;
/** One flow or a batch, as validated. */
export type EnqueueFlowInput = z.output<typeof EnqueueFlowRequest>;
/** One flow or `{flows}`, as a caller may send it. */
export type FlowsEnqueuedOutput = z.output<typeof FlowsEnqueued>;

/**
 * The queues a flow body (one flow, or every flow of `{flows}`) names for its children, besides
 * its own (each needs `write` too). It takes any value, so that the RPC guard can read it before
 * validation; what is not a child list names nothing.
 */
export function childQueues(body: unknown): string[] {
  const found = new Set<string>();
  const walk = (node: unknown, depth: number) => {
    if (depth > MAX_FLOW_DEPTH || typeof node !== "object" || node === null) return;
    const { queue, children } = node as { queue?: unknown; children?: unknown };
    if (typeof queue === "string") found.add(queue);
    if (Array.isArray(children)) for (const child of children) walk(child, depth + 1);
  };
  // Both shapes are walked: a body mixing them is refused by validation, never under-checked.
  walk(body, 0);
  const flows = typeof body === "object" && body !== null ? (body as { flows?: unknown }).flows : undefined;
  if (Array.isArray(flows)) for (const flow of flows) walk(flow, 0);
  return [...found];
}
