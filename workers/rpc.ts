/**
 * The service-binding entrypoint: a Worker bound to this one (`entrypoint = "SwitchyardRpc"`)
 * gets one RPC target per capability and skips HTTP entirely.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { DbRpc } from "./db/rpc.ts";
import { LockRpc } from "./lock/rpc.ts";

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** Lock operations: acquire, release, extend, info. */
  locks(): LockRpc {
    return new LockRpc(this.env);
  }

  /** Postgres cluster operations: status, failover, failovers, restore points. */
  db(): DbRpc {
    return new DbRpc(this.env);
  }
}
