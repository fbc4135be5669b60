/**
 * The queue operations as the client calls them: the same inputs as the HTTP bodies, failures as
 * results with the contract's codes. The Worker's queue table declares them once (./calls.ts is
 * generated from it); {@link httpQueues} runs them over HTTP, {@link rpcQueues} over a service
 * binding, and the Worker's `queues()` RPC target offers them as is.
 */
import type { ConsumeRequest } from "../schemas/queue-stream.ts";
import { QUEUE_CALLS, type QueueCalls } from "./calls.ts";
import type { ClientSocket, HttpTransport } from "./http.ts";
import { bindingTransport, callsOver, httpTransport, queryString } from "./transport.ts";

/** The queue operations, as both transports offer them: the queue table's calls (./calls.ts). */
export interface QueueApi extends QueueCalls {
  /**
   * Opens a streaming consumer socket (`GET /v1/queues/{queue}/consume`); absent where the
   * transport cannot (the client then consumes with HTTP leases).
   */
  openConsumer?(queue: string, query: ConsumeRequest): Promise<ConsumerSocket>;
}

/** The part of a WebSocket a streaming consumer uses (browsers, Node 22, Workers). */
export type ConsumerSocket = ClientSocket;

/**
 * The queue operations over HTTP, with streaming consumer sockets. Contract errors come back as
 * failed results.
 * @example new QueueClient(httpQueues(new HttpTransport({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" })))
 */
export function httpQueues(http: HttpTransport): QueueApi {
  return {
    ...callsOver<QueueApi>(httpTransport(http), "queues", QUEUE_CALLS),
    openConsumer: (queue, query) =>
      http.openSocket(`/v1/queues/${encodeURIComponent(queue)}/consume${queryString(query)}`),
  };
}

/** A service binding to Switchyard's `SwitchyardRpc` entrypoint, as far as queues go. */
export interface QueueRpcBinding {
  queues(): QueueApi | Promise<QueueApi>;
}

/**
 * The queue operations over a service binding: no HTTP, no JSON, no auth header; the binding's
 * queue target is asked for on each call (RPC stubs pipeline). No streaming sockets: the client
 * consumes with leases.
 * @example const queues = new QueueClient(rpcQueues(env.SWITCHYARD));
 */
export const rpcQueues = (binding: QueueRpcBinding): QueueApi =>
  callsOver(bindingTransport(binding), "queues", QUEUE_CALLS);
