/**
 * The service-binding entrypoint: a Worker bound to this one (`entrypoint = "SwitchyardRpc"`)
 * gets one RPC target per capability and skips HTTP entirely. Without a token the bound Worker is
 * admin (the binding is the trust boundary); `{ token }` narrows it to what that token allows
 * (workers/tokens/rpc-access.ts), e.g. `await env.SWITCHYARD.locks({ token })`.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { BreakerRpc } from "./breaker/rpc.ts";
import { BusRpc } from "./bus/rpc.ts";
import { DbRpc } from "./db/rpc.ts";
import { LockRpc } from "./lock/rpc.ts";
import { MirrorRpc } from "./mirror/rpc.ts";
import { QueueRpc } from "./queue/rpc.ts";
import { StateRpc } from "./state/rpc.ts";
import { guardRpc, MIRROR_RPC_ACTIONS, type RpcOptions } from "./tokens/rpc-access.ts";

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** Lock operations: acquire, release, extend, info. */
  locks(options?: RpcOptions): Promise<LockRpc> {
    return guardRpc(this.env, "locks", new LockRpc(this.env, this.ctx), options?.token);
  }

  /** Shared circuit breakers: configure, acquire, record, recordBatch, info. */
  breakers(options?: RpcOptions): Promise<BreakerRpc> {
    return guardRpc(this.env, "breakers", new BreakerRpc(this.env, this.ctx), options?.token);
  }

  /** Event bus operations: publish, subscriptions, events, stats, config. */
  topics(options?: RpcOptions): Promise<BusRpc> {
    return guardRpc(this.env, "topics", new BusRpc(this.env, this.ctx), options?.token);
  }

  /** State operations: get, put, delete, increment, list, txn, watch. */
  state(options?: RpcOptions): Promise<StateRpc> {
    return guardRpc(this.env, "state", new StateRpc(this.env, this.ctx), options?.token);
  }

  /** Mirrors of state namespaces into Redis: put, get, delete. */
  mirrors(options?: RpcOptions): Promise<MirrorRpc> {
    return guardRpc(this.env, "state", new MirrorRpc(this.env), options?.token, MIRROR_RPC_ACTIONS);
  }

  /** Postgres cluster operations: status, failover, failovers, restore points. */
  db(options?: RpcOptions): Promise<DbRpc> {
    return guardRpc(this.env, "db", new DbRpc(this.env), options?.token);
  }

  /** Task queue operations: enqueue, lease, ack, nack, extend, stats, dead letters. */
  queues(options?: RpcOptions): Promise<QueueRpc> {
    return guardRpc(this.env, "queues", new QueueRpc(this.env, this.ctx), options?.token);
  }
}
