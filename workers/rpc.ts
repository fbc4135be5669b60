/**
 * The service-binding entrypoint: a Worker bound to this one (`entrypoint = "SwitchyardRpc"`)
 * gets one RPC target per capability and skips HTTP entirely.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { LockRpc } from "./lock/rpc.ts";
import { QueueRpc } from "./queue/rpc.ts";

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** Lock operations: acquire, release, extend, info. */
  locks(): LockRpc {
    return new LockRpc(this.env);
  }

  /** Task queue operations: enqueue, lease, ack, nack, extend, stats, dead letters. */
  queues(): QueueRpc {
    return new QueueRpc(this.env);
  }
}
