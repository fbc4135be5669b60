/**
 * `(await env.SWITCHYARD.db()).status()` from a Worker with a service binding: the same results as
 * the `/v1/db` routes, failures as `{ ok: false, error }`.
 */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { dbOperations } from "./operations.ts";

export const DbRpc = rpcTargetOf("db", dbOperations);
export type DbRpc = InstanceType<typeof DbRpc>;
