/**
 * The whole client in one object, over HTTP or a service binding, handing out handles bound to a
 * name: `sy.queue("emails")`, `sy.topic("orders")`, `sy.lock("invoice-42")`, `sy.state("carts")`.
 * An app that needs one capability can import that capability's module alone instead.
 */
import { type SwitchyardBinding as BusBinding, BusClient } from "./bus.ts";
import { bindName } from "./handles.ts";
import { HttpTransport } from "./http.ts";
import { httpLocks, LockClient, type LockRpcBinding, rpcLocks } from "./locks.ts";
import { httpQueues, QueueClient, type QueueRpcBinding, rpcQueues } from "./queue.ts";
import {
  httpState,
  rpcState,
  type StateApi,
  StateClient,
  type StateRpcBinding,
  webSocketConnector,
} from "./state.ts";

/** The queue methods a handle carries. */
const QUEUE_METHODS = [
  "enqueue",
  "enqueueBatch",
  "consume",
  "task",
  "finished",
  "run",
  "deleteTask",
  "stats",
  "dead",
  "redrive",
  "purge",
] as const;
/** The topic methods a handle carries. */
const TOPIC_METHODS = [
  "publish",
  "createSubscription",
  "createRedisSubscription",
  "listSubscriptions",
  "deleteSubscription",
  "resumeSubscription",
  "pauseSubscription",
  "deadLetters",
  "redriveDeadLetters",
  "events",
  "stats",
  "configure",
  "subscribe",
] as const;
/** The lock methods a handle carries (release takes the grant, which names its lock). */
const LOCK_METHODS = ["acquire", "withLock"] as const;

/** A queue bound to its name: `enqueue`, `consume(handler, options)`, `stats`, ... */
export type QueueHandle = ReturnType<typeof queueHandle>;
/** A topic bound to its name: `publish`, `subscribe`, subscriptions, dead letters, ... */
export type TopicHandle = ReturnType<typeof topicHandle>;
/** A lock bound to its name: `acquire`, `withLock(fn, options)`. */
export type LockHandle = ReturnType<typeof lockHandle>;

function queueHandle(client: QueueClient, name: string) {
  return bindName(client, name, QUEUE_METHODS);
}
function topicHandle(client: BusClient, name: string) {
  return bindName(client, name, TOPIC_METHODS);
}
function lockHandle(client: LockClient, name: string) {
  return { ...bindName(client, name, LOCK_METHODS), release: client.release.bind(client) };
}

/** A service binding to the `SwitchyardRpc` entrypoint. */
export interface SwitchyardService extends LockRpcBinding, StateRpcBinding, BusBinding, QueueRpcBinding {}

export class Switchyard {
  readonly locks: LockClient;
  readonly queues: QueueClient;
  readonly topics: BusClient;
  readonly #state: StateApi;

  private constructor(parts: { locks: LockClient; queues: QueueClient; topics: BusClient; state: StateApi }) {
    this.locks = parts.locks;
    this.queues = parts.queues;
    this.topics = parts.topics;
    this.#state = parts.state;
  }

  /**
   * Over HTTP, from anywhere (Node 22, browsers, Workers).
   * @example const sy = Switchyard.http({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" });
   */
  static http(options: { baseUrl: string; token: string; fetch?: typeof fetch }): Switchyard {
    const http = HttpTransport.over(options);
    return new Switchyard({
      locks: new LockClient(httpLocks(http)),
      queues: new QueueClient(httpQueues(http)),
      topics: BusClient.http(options),
      state: httpState(http, webSocketConnector(options)),
    });
  }

  /**
   * Over a service binding to the `SwitchyardRpc` entrypoint: no HTTP, no JSON.
   * @example const sy = Switchyard.binding(env.SWITCHYARD);
   */
  static binding(binding: SwitchyardService): Switchyard {
    return new Switchyard({
      locks: new LockClient(rpcLocks(binding)),
      queues: new QueueClient(rpcQueues(binding)),
      topics: BusClient.binding(binding),
      state: rpcState(binding),
    });
  }

  /** The queue `name`: `sy.queue("emails").consume(async (task) => ..., { concurrency: 8 })`. */
  queue(name: string): QueueHandle {
    return queueHandle(this.queues, name);
  }

  /** The topic `name`: `sy.topic("orders").publish({ type: "order.created", data })`. */
  topic(name: string): TopicHandle {
    return topicHandle(this.topics, name);
  }

  /** The lock `name`: `sy.lock("invoice-42").withLock(async ({ token }) => ...)`. */
  lock(name: string): LockHandle {
    return lockHandle(this.locks, name);
  }

  /** The state namespace `namespace`. */
  state(namespace: string): StateClient {
    return new StateClient(this.#state, namespace);
  }
}
