/**
 * `(await env.SWITCHYARD.queues()).enqueue("emails", { payload: {...} })` from a Worker with a
 * service binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { queueOperations } from "./operations.ts";

export const QueueRpc = rpcTargetOf("queues", queueOperations);
export type QueueRpc = InstanceType<typeof QueueRpc>;
