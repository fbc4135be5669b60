/**
 * `(await env.SWITCHYARD.state()).put("sessions", "u/1", { value: 1 })` from a Worker with a
 * service binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { stateOperations } from "./operations.ts";

export const StateRpc = rpcTargetOf("state", stateOperations);
export type StateRpc = InstanceType<typeof StateRpc>;
