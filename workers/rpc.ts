/**
 * The service-binding entrypoint: a Worker bound to this one (`entrypoint = "SwitchyardRpc"`)
 * gets one RPC target per capability and skips HTTP entirely.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { LockRpc } from "./lock/rpc.ts";
import { StateRpc } from "./state/rpc.ts";

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** Lock operations: acquire, release, extend, info. */
  locks(): LockRpc {
    return new LockRpc(this.env);
  }

  /** State operations: get, put, delete, increment, list, txn, watch. */
  state(): StateRpc {
    return new StateRpc(this.env);
  }
}
