import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectError, unique } from "../helpers.ts";
import {
  connect,
  publish,
  type Received,
  receiver,
  ring,
  settled,
  topicStub as stub,
  subscribeWebhook,
} from "./helpers.ts";

const stats = async (topic: string) => (await call("GET", `/v1/topics/${topic}/stats`)).body;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("webhook dispatch", () => {
  it("sends critical, then high, normal, low, oldest first within each, with signed requests", async () => {
    const received = receiver();
    const topic = unique("prio");
    await call("PUT", `/v1/topics/${topic}/config`, { maxInFlight: 1 });
    const sub = await subscribeWebhook(topic);
    await publish(topic, {
      events: [
        { type: "a", priority: "low" },
        { type: "b", priority: "normal" },
        { type: "c", priority: "high" },
        { type: "d", priority: "low", critical: true },
        { type: "e", priority: "normal" },
        { type: "f", priority: "high" },
        { type: "g", priority: "critical" },
      ],
    });
    await settled(topic);
    expect(received).toHaveLength(7);
    expect(received.map((r) => r.event.type)).toEqual(["d", "g", "c", "f", "b", "e", "a"]);
    const first = received[0] as Received;
    const headers = Object.fromEntries(first.headers);
    expect(headers["webhook-id"]).toMatch(/^evt_/);
    expect(new Webhook(sub.secret).verify(first.body, headers)).toMatchObject({
      type: "d",
      critical: true,
      topic,
    });
    expect((await stats(topic)).delivered).toBe(7);
    expect((await stats(topic)).subscriptions[0]).toMatchObject({ pending: 0, lastSeqDelivered: 7 });
  });

  it("delivers only the event types a subscription's filter matches", async () => {
    const received = receiver();
    const topic = unique("filter");
    await subscribeWebhook(topic, { filter: ["order.*", "invoice.>"] });
    await publish(topic, {
      events: [
        { type: "order.created" },
        { type: "order.eu.shipped" },
        { type: "invoice.paid" },
        { type: "invoice.eu.paid" },
        { type: "user.created" },
      ],
    });
    await settled(topic);
    expect((await stats(topic)).delivered).toBe(3);
    expect(received.map((r) => r.event.type).sort()).toEqual([
      "invoice.eu.paid",
      "invoice.paid",
      "order.created",
    ]);
  });

  it("retries on the alarm with nobody calling, dead-letters after maxAttempts, pauses, keeps critical events", async () => {
    let up = false;
    const received = receiver(() => (up ? 200 : 500));
    const topic = unique("retry");
    const sub = await subscribeWebhook(topic, {
      maxAttempts: 2,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await publish(topic, { type: "keep", critical: true });
    await publish(topic, { events: Array.from({ length: 5 }, () => ({ type: "drop" })) });
    await settled(topic);
    expect(received).toHaveLength(6);
    // Second attempts come from the alarm alone, a minute on (the retries are 30-60 s apart).
    await ring(topic, Date.now() + 60_000);
    expect((await stats(topic)).failed).toBe(5);
    const list = await call("GET", `/v1/topics/${topic}/subscriptions`);
    expect(list.body.subscriptions[0]?.paused).toBe(true);
    const dead = await call("GET", `/v1/topics/${topic}/subscriptions/${sub.id}/dead-letters`);
    expect(dead.body.deadLetters).toHaveLength(5);
    expect(dead.body.deadLetters[0]).toMatchObject({
      attempts: 2,
      lastError: "HTTP 500",
      event: { type: "drop" },
    });

    // Paused: new normal events go straight to dead letters, critical ones wait for the receiver.
    await publish(topic, { type: "drop" });
    await publish(topic, { type: "keep", critical: true });
    expect((await stats(topic)).subscriptions[0]).toMatchObject({ deadLetters: 6 });
    up = true;
    await ring(topic, Date.now() + 60_000);
    expect((await stats(topic)).subscriptions[0]?.pending).toBe(0);
    const delivered = received.filter((r) => r.status === 200);
    expect(delivered.map((r) => r.event.seq).sort()).toEqual([1, 8]);
    const resumed = await call("GET", `/v1/topics/${topic}/subscriptions`);
    expect(resumed.body.subscriptions[0]?.paused).toBe(false);
  });
});

describe("backpressure", () => {
  it("answers non-critical publishes 429 with Retry-After past the limit, still takes critical ones", async () => {
    receiver(() => 503);
    const topic = unique("bp");
    await call("PUT", `/v1/topics/${topic}/config`, { maxUndelivered: 3 });
    await subscribeWebhook(topic, { retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await publish(topic, { events: [{ type: "a" }, { type: "b" }, { type: "c" }] });

    const refused = await call("POST", `/v1/topics/${topic}/events`, { type: "d" });
    expectError(refused, 429, "backpressure");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const mixed = await call("POST", `/v1/topics/${topic}/events`, {
      events: [{ type: "e", critical: true }, { type: "f" }],
    });
    expect(mixed.status).toBe(429);

    const critical = await call("POST", `/v1/topics/${topic}/events`, { type: "g", critical: true });
    expect(critical.status).toBe(202);
    expect(critical.body.seqs).toEqual([4]);
    expect(await stats(topic)).toMatchObject({ published: 4, rejected: 3, pending: 4 });
  });
});

describe("WebSocket subscribers", () => {
  it("receive live events matching their filter", async () => {
    const topic = unique("ws");
    const all = await connect(topic);
    const orders = await connect(topic, "filter=order.*");
    await publish(topic, {
      events: [
        { type: "user.created", data: 1 },
        { type: "order.created", data: 2 },
      ],
    });
    expect(await all.nextEvent()).toMatchObject({ type: "user.created", seq: 1, data: 1, topic });
    expect(await all.nextEvent()).toMatchObject({ type: "order.created", seq: 2 });
    const m = await orders.next();
    expect(m).toEqual({
      type: "event",
      event: expect.objectContaining({ type: "order.created", seq: 2, priority: "normal", critical: false }),
    });
    all.ws.close();
    orders.ws.close();
  });

  it("take a filter given as the parameter repeated, as the same patterns joined by commas", async () => {
    const topic = unique("ws");
    const sub = await connect(topic, "filter=order.*&filter=invoice.>");
    await publish(topic, {
      events: [
        { type: "user.created", data: 1 },
        { type: "order.created", data: 2 },
        { type: "invoice.eu.paid", data: 3 },
      ],
    });
    expect((await sub.nextEvent()).type).toBe("order.created");
    expect((await sub.nextEvent()).type).toBe("invoice.eu.paid");
    sub.ws.close();
  });

  it("replay retained events from fromSeq, then go live", async () => {
    const topic = unique("replay");
    await publish(topic, { events: [{ type: "a" }, { type: "b" }, { type: "c" }] });
    const sub = await connect(topic, "fromSeq=2");
    expect((await sub.nextEvent()).seq).toBe(2);
    expect((await sub.nextEvent()).seq).toBe(3);
    await publish(topic, { type: "d" });
    expect(await sub.nextEvent()).toMatchObject({ seq: 4, type: "d" });
    sub.ws.close();
  });

  it("get critical events again on each alarm until they ack them", async () => {
    const topic = unique("ack");
    const sub = await connect(topic);
    await publish(topic, { events: [{ type: "plain" }, { type: "vital", critical: true }] });
    expect((await sub.nextEvent()).type).toBe("plain");
    const vital = await sub.nextEvent();
    expect(vital).toMatchObject({ type: "vital", critical: true, seq: 2 });

    expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
    expect(await sub.next()).toEqual({ type: "event", event: vital });
    expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
    expect(await sub.next()).toEqual({ type: "event", event: vital });

    sub.send({ type: "ack", seq: 2 });
    // A ping the object answers itself (not the runtime's auto-response): after the ack, in order.
    sub.ws.send('{ "type": "ping" }');
    expect(await sub.next()).toEqual({ type: "pong" });
    const unacked = await runInDurableObject(stub(topic), (_o, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM socket_unacked").one(),
    );
    expect(unacked.n).toBe(0);
    await runDurableObjectAlarm(stub(topic));
    // Anything the alarm re-sent would arrive before the answer to this ping.
    sub.send({ type: "ping" });
    expect(await sub.next()).toEqual({ type: "pong" });
    sub.ws.close();
  });
});

describe("retention", () => {
  const seqsOf = async (topic: string) =>
    (await call("GET", `/v1/topics/${topic}/events?limit=1000`)).body.events.map(
      (e: { seq: number }) => e.seq,
    );

  it("keeps at most maxRetained events, dropping the oldest", async () => {
    const topic = unique("keep");
    await call("PUT", `/v1/topics/${topic}/config`, { maxRetained: 3 });
    await publish(topic, { events: Array.from({ length: 5 }, () => ({ type: "a" })) });
    expect(await seqsOf(topic)).toEqual([3, 4, 5]);
  });

  it("drops events older than retentionMs on the alarm, except those still to be delivered", async () => {
    receiver(() => 503);
    const topic = unique("age");
    await call("PUT", `/v1/topics/${topic}/config`, { retentionMs: 60_000 });
    await subscribeWebhook(topic, {
      filter: ["pending"],
      retry: { initialDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
    });
    await publish(topic, { events: [{ type: "old" }, { type: "pending" }] });
    await settled(topic);
    expect((await stats(topic)).subscriptions[0]?.pending).toBe(1);
    // The alarm is due when the oldest event expires; it runs as if at that time.
    expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
    expect(await seqsOf(topic)).toEqual([2]);
  });
});
