/**
 * `(await env.SWITCHYARD.locks()).acquire("orders", { owner: "w1" })` from a Worker with a service
 * binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { lockOperations } from "./operations.ts";

export const LockRpc = rpcTargetOf("locks", lockOperations);
export type LockRpc = InstanceType<typeof LockRpc>;
