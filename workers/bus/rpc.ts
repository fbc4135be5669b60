/**
 * `(await env.SWITCHYARD.topics()).publish("orders", { type: "order.created", data })` from a
 * Worker with a service binding: the same results as the HTTP routes, failures as
 * `{ ok: false, error }` (backpressure with `details.retryAfterSeconds`).
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { busOperations } from "./operations.ts";

export const BusRpc = rpcTargetOf("topics", busOperations);
export type BusRpc = InstanceType<typeof BusRpc>;
