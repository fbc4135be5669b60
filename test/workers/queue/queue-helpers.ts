/** Shortcuts for the queue tests: paths, the common calls, and a look at the object's rows. */

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { FlowPeer } from "../../../durable-objects/queue/flows.ts";
import { HttpTransport } from "../../../shared/client/http.ts";
import { httpQueues, QueueClient } from "../../../shared/client/queue.ts";
import type { LeasedTask } from "../../../shared/schemas/queue.ts";
import type {
  FlowChildOutput,
  FlowCreatedOutput,
  FlowsEnqueuedOutput,
} from "../../../shared/schemas/queue-flow.ts";
import { call, TOKEN, unique } from "../helpers.ts";

/** `/v1/queues/{queue}{rest}`, typed so that {@link call} knows the route. */
export const qpath = <const Rest extends string = "">(queue: string, rest?: Rest) =>
  `/v1/queues/${queue}${rest ?? ""}` as `/v1/queues/${string}${Rest}`;

/** Enqueues (one task or `{tasks}`) and returns the ids; fails the test on anything but 201. */
export async function enqueue(queue: string, body: unknown): Promise<string[]> {
  const res = await call("POST", qpath(queue, "/tasks"), body);
  expect(res.status, res.text).toBe(201);
  return res.body.ids;
}

/** The queue's stats (`GET .../stats`). */
export const stats = async (queue: string) => (await call("GET", qpath(queue, "/stats"))).body;

/** A fresh queue with two tasks (payloads 1 and 2), both leased: for the batch ack tests. */
export async function twoLeased(): Promise<{ q: string; a?: Leased; b?: Leased }> {
  const q = unique("q");
  await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
  const [a, b] = await lease(q, { max: 2 });
  return { q, a, b };
}

/** A leased task, as `POST .../lease` answers it. */
export type Leased = LeasedTask;

/** Leases and returns the tasks; fails the test on anything but 200. */
export async function lease(queue: string, body: unknown = {}): Promise<Leased[]> {
  const res = await call("POST", qpath(queue, "/lease"), body);
  expect(res.status, res.text).toBe(200);
  return res.body.tasks;
}

/**
 * The answer to one flow, as `POST .../flows` declares it for a single flow (it answers `{flows}`
 * only to a batch). An error body passes through: the test reads it through `error`.
 */
export function oneFlow(body: FlowsEnqueuedOutput): FlowCreatedOutput {
  if (typeof body === "object" && body !== null && "flows" in body)
    throw new Error(`a batch's answer where one flow's was expected: ${JSON.stringify(body)}`);
  return body;
}

/** The answers to a batch of flows (`{flows}`), in order; the test stops here on any other body. */
export function batchOfFlows(body: FlowsEnqueuedOutput): FlowCreatedOutput[] {
  if (!("flows" in body))
    throw new Error(`one flow's answer where a batch's was expected: ${JSON.stringify(body)}`);
  return body.flows;
}

/** A created flow child's id; the test stops here if its queue had not taken it yet (`id: null`). */
export function childId(child: FlowChildOutput | undefined): string {
  if (typeof child?.id !== "string") throw new Error(`no id for the flow child ${JSON.stringify(child)}`);
  return child.id;
}

/** The queue's object stub, for alarms, eviction and row inspection. */
export const queueStub = (queue: string) => env.QUEUES.getByName(queue);

const failingPeer: FlowPeer = {
  flowCreateAll: () => Promise.reject(new Error("cut off")),
  flowEnded: () => Promise.reject(new Error("cut off")),
};

/** Cuts the queue's object off from the other queues until it restarts: its flow deliveries fail. */
export function cutOff(queue: string): Promise<void> {
  return runInDurableObject(queueStub(queue), (instance) => {
    Object.assign(instance, { peer: () => failingPeer });
  });
}

/** Restarts the queue's object (it keeps only what it stored): woken first, as only a running object can be evicted. */
export async function restart(queue: string): Promise<void> {
  const stub = queueStub(queue);
  await stub.stats();
  await evictDurableObject(stub);
}

/** One stored task, as the object keeps it. */
export interface StoredTask {
  seq: number;
  state: string;
  priority: number;
  attempt: number;
  max_attempts: number;
  available_at: number;
  lease_id: string | null;
  lease_expires_at: number | null;
}

/** Every stored task, read inside the object. */
export function storedTasks(queue: string): Promise<StoredTask[]> {
  return runInDurableObject(queueStub(queue), (_instance, state) =>
    state.storage.sql
      .exec<Record<string, SqlStorageValue>>(
        "SELECT seq, state, priority, attempt, max_attempts, available_at, lease_id, lease_expires_at FROM tasks ORDER BY seq",
      )
      .toArray()
      .map((row) => row as unknown as StoredTask),
  );
}

/** What waits inside a queue object: long-polling leases, or requests for a task's end. */
const WAITING = {
  "long polls": (instance: object) => (instance as { waiters: unknown[] }).waiters.length,
  "task ends": (instance: object) => (instance as { ends: { size: number } }).ends.size,
};

/** How many long polls (or task-end waits) wait inside the queue object now. */
export const waitsIn = (q: string, what: keyof typeof WAITING = "long polls") =>
  runInDurableObject(queueStub(q), WAITING[what]);

/** Resolves once `n` long polls (or task-end waits) wait inside the queue object (polled, with a deadline). */
export async function waiting(
  q: string,
  n: number,
  what: keyof typeof WAITING = "long polls",
): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const count = await waitsIn(q, what);
    if (count >= n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} waiting ${what}, saw ${count}`);
    await scheduler.wait(5);
  }
}

/**
 * Sends a request that waits for a task's end (`POST` with `body`, else `GET`) and aborts it once
 * its wait is parked in `q`'s object; resolves when the object has let the wait go, long before
 * the request's 20 s would end it, and throws if it has not within 5 s.
 */
export async function abandonWait(q: string, path: string, body?: unknown): Promise<void> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`http://localhost${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: controller.signal,
  });
  const gone = exports.default.fetch(request).catch((err: unknown) => err);
  await waiting(q, 1, "task ends");
  controller.abort();
  await gone;
  const left = Date.now() + 5_000;
  while ((await waitsIn(q, "task ends")) > 0) {
    if (Date.now() > left) throw new Error("the wait was not left");
    await scheduler.wait(10);
  }
}

/** The typed client over HTTP, through the Worker's own fetch. */
export const clientOverHttp = () =>
  new QueueClient(
    httpQueues(
      new HttpTransport({
        baseUrl: "http://localhost/",
        token: TOKEN,
        fetch: (r) => exports.default.fetch(r),
      }),
    ),
  );

/** The typed client over the service binding's RPC target. */
export const clientOverRpc = async () => new QueueClient(await exports.SwitchyardRpc.queues());

/** The typed client over HTTP leases only: its transport cannot open the streaming socket. */
export const clientOverHttpLeases = () =>
  new QueueClient({
    ...clientOverHttp().transport,
    openConsumer: () => Promise.reject(new Error("no sockets here")),
  });

/** The typed client's transports, for `describe.each` and `it.each`: HTTP (streaming when it consumes) and RPC. */
export const CLIENT_TRANSPORTS: Array<[string, () => Promise<QueueClient>]> = [
  ["HTTP", async () => clientOverHttp()],
  ["RPC", clientOverRpc],
];
