/**
 * The service-binding entrypoint: a Worker bound to this one (`entrypoint = "SwitchyardRpc"`)
 * gets one RPC target per capability and skips HTTP entirely.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { BreakerRpc } from "./breaker/rpc.ts";
import { BusRpc } from "./bus/rpc.ts";
import { DbRpc } from "./db/rpc.ts";
import { LockRpc } from "./lock/rpc.ts";
import { QueueRpc } from "./queue/rpc.ts";
import { StateRpc } from "./state/rpc.ts";

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** Lock operations: acquire, release, extend, info. */
  locks(): LockRpc {
    return new LockRpc(this.env, this.ctx);
  }

  /** Shared circuit breakers: configure, acquire, record, recordBatch, info. */
  breakers(): BreakerRpc {
    return new BreakerRpc(this.env, this.ctx);
  }

  /** Event bus operations: publish, subscriptions, events, stats, config. */
  topics(): BusRpc {
    return new BusRpc(this.env, this.ctx);
  }

  /** State operations: get, put, delete, increment, list, txn, watch. */
  state(): StateRpc {
    return new StateRpc(this.env, this.ctx);
  }

  /** Postgres cluster operations: status, failover, failovers, restore points. */
  db(): DbRpc {
    return new DbRpc(this.env);
  }

  /** Task queue operations: enqueue, lease, ack, nack, extend, stats, dead letters. */
  queues(): QueueRpc {
    return new QueueRpc(this.env, this.ctx);
  }
}
