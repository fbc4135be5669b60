/** The routes whose sockets the Worker relays (workers/http/socket-relay.ts), for tests of all three. */

export interface RelayedRoute {
  name: "topic" | "state" | "queue";
  path(target: string): string;
  /** The capability and action of a scope that lets a token open the socket. */
  capability: "topics" | "state" | "queues";
  action: "read" | "consume";
  /** A write to `target` that its sockets hear of: method, path, body, and the status it answers. */
  write(target: string): [method: "POST" | "PUT", path: string, body: unknown, status: number];
  /** The type of the message that write brings to an open socket. */
  heard: string;
  /** The contract's answer to the path without `Upgrade: websocket`. */
  withoutUpgrade: [status: number, code: string];
}

export const RELAYED_ROUTES: RelayedRoute[] = [
  {
    name: "topic",
    path: (topic) => `/v1/topics/${topic}/subscribe`,
    capability: "topics",
    action: "read",
    write: (topic) => ["POST", `/v1/topics/${topic}/events`, { type: "live" }, 202],
    heard: "event",
    withoutUpgrade: [400, "invalid_request"],
  },
  {
    name: "state",
    path: (ns) => `/v1/state/${ns}/subscribe`,
    capability: "state",
    action: "read",
    write: (ns) => ["PUT", `/v1/state/${ns}/live`, { value: 1 }, 200],
    heard: "change",
    // The key named `subscribe`, absent.
    withoutUpgrade: [404, "not_found"],
  },
  {
    name: "queue",
    path: (queue) => `/v1/queues/${queue}/consume`,
    capability: "queues",
    action: "consume",
    write: (queue) => ["POST", `/v1/queues/${queue}/tasks`, { payload: 1 }, 201],
    heard: "tasks",
    withoutUpgrade: [400, "invalid_request"],
  },
];
