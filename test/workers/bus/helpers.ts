/**
 * Shared steps of the event bus tests: publishing, subscribing, WebSocket subscribers, and driving
 * webhook delivery without polling (await the attempts in flight, ring the alarm).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { TopicObject } from "../../../durable-objects/bus/object.ts";
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
 * Rings the topic's alarm (it runs as at the time it is set for, however early) and waits for the
 * attempts it starts to settle; returns whether an alarm was set.
 */
export async function ring(topic: string): Promise<boolean> {
  const rang = await runDurableObjectAlarm(topicStub(topic));
  await settled(topic);
  return rang;
}

/**
 * Rings the alarm until `done()` holds: each ring brings the topic to its next due time, so
 * retries and probes due later run now, one due time at a time. Fails after `rings` rings, or
 * when no alarm is set before `done()` holds.
 */
export async function ringUntil(topic: string, done: () => Promise<boolean>, rings = 10): Promise<void> {
  await settled(topic);
  for (let i = 0; i < rings && !(await done()); i++) {
    expect(await ring(topic), "the topic has no alarm set and the condition does not hold").toBe(true);
  }
  expect(await done(), `the condition does not hold after ${rings} rings of the alarm`).toBe(true);
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
  return res.body as { id: string; secret: string };
}

/** A received WebSocket message. */
// biome-ignore lint/suspicious/noExplicitAny: tests read message fields freely and expect() checks them
export type Message = any;

/** A WebSocket subscriber whose messages can be awaited one by one. */
export interface Subscriber {
  ws: WebSocket;
  /** The next message, failing after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Message>;
  /** Messages received and not yet taken by `next`. */
  buffered(): Message[];
  send(value: unknown): void;
}

/** Opens `GET /v1/topics/{topic}/subscribe?...` through the Worker's fetch. */
export async function connect(topic: string, query = ""): Promise<Subscriber> {
  const res = await exports.default.fetch(
    new Request(`http://localhost/v1/topics/${topic}/subscribe?${query}`, {
      headers: { upgrade: "websocket", authorization: `Bearer ${TOKEN}` },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket as WebSocket;
  ws.accept();
  const queue: Message[] = [];
  const waiters: Array<(m: Message) => void> = [];
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    const waiter = waiters.shift();
    if (waiter) waiter(m);
    else queue.push(m);
  });
  return {
    ws,
    next(timeoutMs = 2_000) {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no WebSocket message in time")), timeoutMs);
        waiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      });
    },
    buffered: () => queue.splice(0),
    send: (value) => ws.send(JSON.stringify(value)),
  };
}
