/**
 * Shared steps of the event bus tests: publishing, subscribing, WebSocket subscribers, and driving
 * webhook delivery without polling (await the attempts in flight, ring the alarm).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { TopicObject } from "../../../durable-objects/bus/object.ts";
import type { TopicServerMessage } from "../../../durable-objects/logic/topic-messages.ts";
import type { BusEventValue } from "../../../shared/schemas/bus.ts";
import { call, TOKEN } from "../helpers.ts";

/** The topic's object. */
export const topicStub = (topic: string) => env.TOPICS.getByName(topic);

/**
 * Waits until the topic has no webhook attempt in flight, including the attempts each finished
 * one starts (a publish, a resume or an alarm starts due deliveries at once).
 */
export async function settled(topic: string): Promise<void> {
  await runInDurableObject(topicStub(topic), (o: TopicObject) => o.deliveriesSettled());
}

/**
 * Runs the topic's alarm as at the instant `at`, whatever the wall clock says: every retry, probe
 * and redriven delivery due by then goes out. Then waits for those attempts and the ones they
 * start to settle. `at` is ahead of the wall clock (10 s by default), so that the runtime never
 * takes this alarm before `runDurableObjectAlarm` does; one it rang earlier only finds less to do.
 * @example await ring(topic, Date.now() + 60_000); // retries up to a minute from now
 */
export async function ring(topic: string, at: number = Date.now() + 10_000): Promise<void> {
  await settled(topic);
  await runInDurableObject(topicStub(topic), (o: TopicObject) => o.setAlarmAt(at));
  expect(await runDurableObjectAlarm(topicStub(topic))).toBe(true);
  await settled(topic);
}

export interface Received {
  url: string;
  headers: Headers;
  body: string;
  event: { seq: number; type: string; priority: string; critical: boolean };
  status: number;
}

/**
 * Stands in for webhook receivers, which a test inside workerd cannot run (the node-side
 * integration tests use a real `node:http` one): records each request the topic sends and
 * answers with `status()` (a promise holds the request in flight until it settles).
 */
export function receiver(status: () => number | Promise<number> = () => 200) {
  const received: Received[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const body = await request.text();
    const answer = await status();
    received.push({
      url: request.url,
      headers: request.headers,
      body,
      event: JSON.parse(body),
      status: answer,
    });
    return new Response(null, { status: answer });
  });
  return received;
}

/** A receiver address: allowed with ALLOW_INSECURE_WEBHOOKS, and nothing listens there. */
export const LOOPBACK_HOOK = "http://127.0.0.1:9/hook";

/** Publishes and expects 202; returns the seqs. */
export async function publish(topic: string, body: unknown): Promise<number[]> {
  const res = await call("POST", `/v1/topics/${topic}/events`, body);
  expect(res.status, res.text).toBe(202);
  return res.body.seqs;
}

/** Creates a webhook subscription and expects 201. */
export async function subscribeWebhook(topic: string, body: Record<string, unknown> = {}) {
  const res = await call("POST", `/v1/topics/${topic}/subscriptions`, { url: LOOPBACK_HOOK, ...body });
  expect(res.status, res.text).toBe(201);
  const { id, secret } = res.body;
  // The contract's secret is optional (a Redis target has none); a webhook's answer carries one.
  if (secret === undefined) throw new Error(`a webhook subscription answered without a secret: ${res.text}`);
  return { id, secret };
}

/** A received WebSocket message. */
export type Message = TopicServerMessage;

/** A WebSocket subscriber whose messages can be awaited one by one. */
export interface Subscriber {
  ws: WebSocket;
  /** The next message, failing after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Message>;
  /** The next message's event, failing if the next message is not an event. */
  nextEvent(timeoutMs?: number): Promise<BusEventValue>;
  /** Messages received and not yet taken by `next`. */
  buffered(): Message[];
  send(value: unknown): void;
}

/** Opens `GET /v1/topics/{topic}/subscribe?...` through the Worker's fetch, with `token` (the dev admin token by default). */
export async function connect(topic: string, query = "", token = TOKEN): Promise<Subscriber> {
  const res = await exports.default.fetch(
    new Request(`http://localhost/v1/topics/${topic}/subscribe?${query}`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket as WebSocket;
  ws.accept();
  const queue: Message[] = [];
  const waiters: Array<(m: Message) => void> = [];
  ws.addEventListener("message", (e) => {
    const m: Message = JSON.parse(e.data as string);
    const waiter = waiters.shift();
    if (waiter) waiter(m);
    else queue.push(m);
  });
  const next = (timeoutMs = 2_000): Promise<Message> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no WebSocket message in time")), timeoutMs);
      waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  };
  return {
    ws,
    next,
    async nextEvent(timeoutMs) {
      const m = await next(timeoutMs);
      if (m.type !== "event") throw new Error(`expected an event, got ${JSON.stringify(m)}`);
      return m.event;
    },
    buffered: () => queue.splice(0),
    send: (value) => ws.send(JSON.stringify(value)),
  };
}
