/**
 * `(await env.SWITCHYARD.breakers()).acquire("payments-api")` from a Worker with a service
 * binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { breakerOperations } from "./operations.ts";

export const BreakerRpc = rpcTargetOf("breakers", breakerOperations);
export type BreakerRpc = InstanceType<typeof BreakerRpc>;
