import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import {
  DeadLetterList,
  EventsPage,
  Published,
  SubscriptionCreated,
  SubscriptionList,
  TopicStats,
} from "../../../shared/schemas/bus.ts";
import { bodyOf } from "../answer.ts";
import { Receiver } from "./receiver.ts";
import { until, workerForFile } from "./worker.ts";

const worker = workerForFile();
const receivers: Receiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  receivers.push(r);
  return r;
}

let topics = 0;
const topicName = () => `it-${process.pid}-${++topics}-${Date.now()}`;

async function subscribe(topic: string, body: Record<string, unknown>) {
  const res = await worker.current.call("POST", `/v1/topics/${topic}/subscriptions`, body);
  expect(res.status).toBe(201);
  // A webhook subscription: its secret is in the answer.
  return bodyOf(SubscriptionCreated.required(), res);
}

async function publish(topic: string, body: unknown): Promise<number[]> {
  const res = await worker.current.call("POST", `/v1/topics/${topic}/events`, body);
  expect(res.status).toBe(202);
  return bodyOf(Published, res).seqs;
}

const stats = async (topic: string) =>
  bodyOf(TopicStats, await worker.current.call("GET", `/v1/topics/${topic}/stats`));
/** The stats of a topic's one subscription. */
const subscriptionStats = async (topic: string) => {
  const [sub] = (await stats(topic)).subscriptions;
  if (!sub) throw new Error(`topic ${topic} has no subscription`);
  return sub;
};

/**
 * A receiver that is down (started once for a port, then stopped) and a subscription of a new
 * topic to it, with quick retries.
 */
async function subscriptionToDownReceiver(maxAttempts: number) {
  const hook = await receiver();
  await hook.stop();
  const topic = topicName();
  const sub = await subscribe(topic, {
    url: hook.url,
    maxAttempts,
    retry: { initialDelayMs: 100, maxDelayMs: 300 },
  });
  return { hook, topic, sub };
}

const oneDeadLetter = (topic: string) =>
  until(
    async () => ((await subscriptionStats(topic)).deadLetters === 1 ? true : undefined),
    15_000,
    "the dead letter",
  );

describe("webhooks to a real receiver", () => {
  it("sign every request so that the standardwebhooks package verifies it", async () => {
    const hook = await receiver();
    const topic = topicName();
    const { secret } = await subscribe(topic, { url: hook.url });
    const [seq] = await publish(topic, { type: "order.created", data: { total: 42, note: "é✓" } });
    const arrival = await until(async () => hook.delivered[0], 15_000, "the webhook");
    const verified = new Webhook(secret).verify(arrival.body, arrival.headers);
    expect(verified).toMatchObject({ topic, seq, type: "order.created", data: { total: 42, note: "é✓" } });
    expect(arrival.headers["webhook-id"]).toBe(arrival.event.id);
    expect(() => new Webhook(secret).verify(`${arrival.body} `, arrival.headers)).toThrow();
  });

  it("deliver to a receiver that fails the first 3 times on the 4th attempt, after growing delays", async () => {
    const hook = await receiver();
    hook.answer = (n) => (n < 3 ? 500 : 204);
    const topic = topicName();
    await subscribe(topic, { url: hook.url, retry: { initialDelayMs: 200, maxDelayMs: 5_000 } });
    await publish(topic, { type: "payment.settled" });
    await until(async () => hook.delivered[0], 15_000, "the fourth attempt");
    expect(hook.arrivals.map((a) => a.status)).toEqual([500, 500, 500, 204]);
    expect(new Set(hook.arrivals.map((a) => a.headers["webhook-id"])).size).toBe(1);
    const gaps = hook.arrivals.slice(1).map((a, i) => a.at - (hook.arrivals[i] as { at: number }).at);
    // Equal jitter: retry n waits between 100·2^(n-1) and 200·2^(n-1) ms. Only the lower bounds hold
    // whatever the machine's load (an attempt is never early, it can be late), and they double.
    expect(gaps).toHaveLength(3);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 10);
    await until(async () => ((await stats(topic)).delivered === 1 ? true : undefined));
  });

  it("hold every event while the receiver is down, spending no attempts, and deliver them all once it is back", async () => {
    // maxAttempts 1: not even the refusals before the receiver counts as down spend an attempt.
    const { hook, topic, sub } = await subscriptionToDownReceiver(1);
    await publish(topic, {
      events: Array.from({ length: 5 }, (_, i) => ({ type: "report.ready", data: i })),
    });
    await publish(topic, { type: "payment.failed", critical: true });
    const listed = async () => {
      const list = bodyOf(
        SubscriptionList,
        await worker.current.call("GET", `/v1/topics/${topic}/subscriptions`),
      );
      const [sub] = list.subscriptions;
      if (!sub) throw new Error(`topic ${topic} has no subscription`);
      return sub;
    };
    await until(async () => ((await listed()).receiver === "down" ? true : undefined), 15_000, "down");
    // Past maxAttempts' worth of time and probes, nothing is dead-lettered.
    await until(
      async () => (((await listed()).nextProbeAt ?? 0) - Date.now() > 3_000 ? true : undefined),
      20_000,
      "probes",
    );
    expect(await subscriptionStats(topic)).toMatchObject({
      pending: 6,
      deadLetters: 0,
      receiver: "down",
    });
    const { nextProbeAt } = await listed();
    const back = Date.now();
    await hook.start();
    await until(async () => (hook.delivered.length >= 6 ? true : undefined), 20_000, "the backlog");
    const first = (hook.delivered[0] as { at: number }).at;
    console.log(
      `receiver back → first delivery ${first - back} ms, backlog of 6 done ${Date.now() - back} ms`,
    );
    // The scheduled probe finds the receiver back and the backlog follows it (slack for a loaded machine).
    expect(first).toBeLessThanOrEqual((nextProbeAt ?? back + 15_000) + 2_000);
    expect(new Set(hook.delivered.map((a) => a.event.seq))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    await until(async () => ((await stats(topic)).pending === 0 ? true : undefined));
    expect((await listed()).receiver).toBe("up");
    const dead = await worker.current.call("GET", `/v1/topics/${topic}/subscriptions/${sub.id}/dead-letters`);
    expect(bodyOf(DeadLetterList, dead).deadLetters).toEqual([]);
  });

  it("deliver a dead letter, signed, when it is redriven after the receiver is fixed", async () => {
    // A 500 is the receiver's own answer: with maxAttempts 1 the first one dead-letters the event.
    const hook = await receiver();
    hook.answer = () => 500;
    const topic = topicName();
    const sub = await subscribe(topic, { url: hook.url, maxAttempts: 1 });
    const [seq] = await publish(topic, { type: "invoice.overdue", data: { id: 7 } });
    await oneDeadLetter(topic);
    hook.answer = () => 204;
    const redrive = `/v1/topics/${topic}/subscriptions/${sub.id}/dead-letters/redrive`;
    expect(await worker.current.call("POST", redrive, { seqs: [seq] })).toEqual({
      status: 200,
      body: { redriven: 1 },
    });
    const arrival = await until(async () => hook.delivered[0], 15_000, "the redriven event");
    expect(new Webhook(sub.secret).verify(arrival.body, arrival.headers)).toMatchObject({
      topic,
      seq,
      type: "invoice.overdue",
      data: { id: 7 },
    });
    await until(async () => {
      const s = await stats(topic);
      return s.delivered === 1 && s.failed === 0 && s.pending === 0 && s.subscriptions[0]?.deadLetters === 0
        ? true
        : undefined;
    });
  });

  it("lose nothing across a restart of the Worker", async () => {
    const hook = await receiver();
    const url = hook.url;
    await hook.stop();
    const topic = topicName();
    await subscribe(topic, { url, retry: { initialDelayMs: 100, maxDelayMs: 500 } });
    const seqs = await publish(topic, {
      events: Array.from({ length: 20 }, (_, i) => ({ type: "job.done", data: i, critical: i % 5 === 0 })),
    });
    await worker.restart();
    expect((await stats(topic)).published).toBe(20);
    await hook.start();
    // The receiver went down before the restart: the backlog follows its next probe (at most 15 s).
    await until(
      async () => (new Set(hook.delivered.map((a) => a.event.seq)).size === 20 ? true : undefined),
      30_000,
    );
    expect([...new Set(hook.delivered.map((a) => a.event.seq))].sort((a, b) => a - b)).toEqual(seqs);
    const page = await worker.current.call("GET", `/v1/topics/${topic}/events?limit=100`);
    expect(bodyOf(EventsPage, page).events.map((e) => e.data)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
