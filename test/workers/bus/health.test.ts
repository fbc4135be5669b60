/**
 * Receivers that are down (issue 17), against a real HTTP receiver on 127.0.0.1 and a refused
 * port; retries and probes are driven by the topic's alarm.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TopicObject } from "../../../durable-objects/bus/object.ts";
import { DOWN_AFTER } from "../../../durable-objects/logic/receiver-health.ts";
import { LOCAL_ONLY_TARGETS } from "../../fixtures/webhook-urls.ts";
import { call, unique } from "../helpers.ts";
import { publish, ring, settled, topicStub as stub, subscribeWebhook } from "./helpers.ts";
import { RealHook } from "./real-receiver.ts";

const stats = async (topic: string) => (await call("GET", `/v1/topics/${topic}/stats`)).body;
/** The topic's one subscription, as listed. */
async function listed(topic: string) {
  const [sub] = (await call("GET", `/v1/topics/${topic}/subscriptions`)).body.subscriptions;
  if (!sub) throw new Error(`${topic} lists no subscription`);
  return sub;
}
const deadLetters = async (topic: string, id: string) =>
  (await call("GET", `/v1/topics/${topic}/subscriptions/${id}/dead-letters`)).body.deadLetters;

describe("a receiver that is down", () => {
  it("gets one probe at a time, spends no attempts, and takes the backlog on the first success", async () => {
    const hook = new RealHook(unique("down"));
    await hook.answer({ status: 503, delayMs: 20 });
    const topic = unique("down");
    const sub = await subscribeWebhook(topic, {
      url: hook.url,
      maxAttempts: 2,
      retry: { initialDelayMs: 10, maxDelayMs: 10 },
    });
    await publish(topic, { events: Array.from({ length: 20 }, (_, i) => ({ type: "e", data: i })) });

    // The first attempts (up to maxInFlight) fail; DOWN_AFTER of them in a row mark it down.
    await settled(topic);
    expect((await listed(topic)).receiver).toBe("down");
    const down = await listed(topic);
    expect(down.nextProbeAt).toBeGreaterThan(Date.now() - 1_000);
    expect(down.nextProbeAt).toBeLessThanOrEqual(Date.now() + 15_000);
    expect((await stats(topic)).subscriptions[0]).toMatchObject({
      receiver: "down",
      nextProbeAt: expect.any(Number),
      pending: 20,
    });
    // The attempts that were in flight when it went down come back first.
    expect((await hook.seen()).inFlight).toBe(0);
    const before = await hook.answer({ resetMax: true });
    expect(before.count).toBeGreaterThanOrEqual(DOWN_AFTER);
    expect(before.count).toBeLessThan(20);

    // Each ring of the alarm sends one probe: the next pending event itself, never the backlog.
    const rings = 5;
    for (let i = 0; i < rings; i++) {
      expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
      const probe = await listed(topic);
      expect(probe.receiver).toBe("down");
      expect(probe.nextProbeAt).toBeLessThanOrEqual(Date.now() + 15_000);
    }
    const probed = await hook.seen();
    expect(probed.count - before.count).toBe(rings);
    expect(probed.maxInFlight).toBeLessThanOrEqual(1);
    const probes = probed.seqs.slice(before.count);
    expect(new Set(probes).size).toBe(1);
    // More failed attempts than maxAttempts, and nothing went to dead letters.
    expect(await stats(topic)).toMatchObject({ failed: 0, pending: 20, delivered: 0 });
    expect(await deadLetters(topic, sub.id)).toEqual([]);

    // Back up: the next probe gets through and the backlog follows.
    await hook.answer({ status: 200, delayMs: 0 });
    expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
    // The backlog follows the probe; the alarm sends any retry still waiting its 10 ms.
    await ring(topic);
    expect((await stats(topic)).delivered).toBe(20);
    const up = await listed(topic);
    expect(up.receiver).toBe("up");
    expect(up).not.toHaveProperty("nextProbeAt");
    const seen = await hook.seen();
    expect(new Set(seen.seqs)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i + 1)));
    expect((await stats(topic)).subscriptions[0]).toMatchObject({
      receiver: "up",
      pending: 0,
      deadLetters: 0,
    });
  });

  it("says 'connection failed' whether the port is closed or open, and goes down on a refused port", async () => {
    const open = new URL(new RealHook(unique("tls")).url);
    const targets = [
      "http://127.0.0.1:9/hook", // nothing listens: refused
      `https://127.0.0.1:${open.port}/hook/x`, // a plain HTTP server: the TLS hello fails
    ];
    for (const url of targets) {
      const topic = unique("refused");
      const sub = await subscribeWebhook(topic, { url, maxAttempts: 1 });
      await publish(topic, { type: "a" });
      await settled(topic);
      // A down signal spends no attempt, even the first: the event waits for its retry.
      expect(await deadLetters(topic, sub.id)).toEqual([]);
      // A pause by hand moves it to the dead letters, with what its attempt met.
      expect((await call("POST", `/v1/topics/${topic}/subscriptions/${sub.id}/pause`)).status).toBe(200);
      expect(await deadLetters(topic, sub.id)).toEqual([
        expect.objectContaining({ attempts: 0, lastError: "connection failed" }),
      ]);
    }

    const topic = unique("refused");
    await subscribeWebhook(topic, {
      url: "http://127.0.0.1:9/hook",
      maxAttempts: 1,
      retry: { initialDelayMs: 10, maxDelayMs: 10 },
    });
    await publish(topic, { events: Array.from({ length: DOWN_AFTER + 2 }, () => ({ type: "a" })) });
    await settled(topic);
    expect((await listed(topic)).receiver).toBe("down");
    // With maxAttempts 1, not even the failures before it went down were counted: all wait.
    expect(await stats(topic)).toMatchObject({ failed: 0, pending: DOWN_AFTER + 2 });
    await runDurableObjectAlarm(stub(topic));
    expect(await stats(topic)).toMatchObject({ failed: 0, pending: DOWN_AFTER + 2 });
  });

  it("holds the topic in backpressure: waiting events still count as undelivered", async () => {
    const topic = unique("bp");
    await call("PUT", `/v1/topics/${topic}/config`, { maxUndelivered: DOWN_AFTER + 1 });
    await subscribeWebhook(topic, { url: "http://127.0.0.1:9/hook" });
    await publish(topic, { events: Array.from({ length: DOWN_AFTER + 1 }, () => ({ type: "a" })) });
    await settled(topic);
    expect((await listed(topic)).receiver).toBe("down");
    const refused = await call("POST", `/v1/topics/${topic}/events`, { type: "b" });
    expect(refused.status).toBe(429);
    expect(refused.error).toMatchObject({ code: "backpressure", details: { reason: "undelivered" } });
    // Critical events keep their guarantee: accepted, and waiting with the rest.
    expect((await call("POST", `/v1/topics/${topic}/events`, { type: "c", critical: true })).status).toBe(
      202,
    );
  });
});

describe("pause and resume", () => {
  it("pauses by hand with 200 and the subscription; resume ends it and takes the receiver as up", async () => {
    const hook = new RealHook(unique("pause"));
    await hook.answer({ status: 503 });
    const topic = unique("pause");
    const sub = await subscribeWebhook(topic, {
      url: hook.url,
      retry: { initialDelayMs: 10, maxDelayMs: 10 },
    });
    const base: `/v1/topics/${string}/subscriptions/${string}` = `/v1/topics/${topic}/subscriptions/${sub.id}`;

    const paused = await call("POST", `${base}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: sub.id, paused: true, receiver: "up" });
    expect(paused.body).not.toHaveProperty("secret");
    expect((await listed(topic)).paused).toBe(true);
    // Paused: normal events go to the dead letters, critical ones wait for the receiver.
    await publish(topic, { events: [{ type: "plain" }, { type: "vital", critical: true }] });
    expect((await stats(topic)).subscriptions[0]).toMatchObject({ deadLetters: 1 });
    expect((await call("POST", `${base}/pause`)).body.paused).toBe(true);

    // Down as well; resume ends both.
    await publish(topic, {
      events: Array.from({ length: DOWN_AFTER }, () => ({ type: "vital", critical: true })),
    });
    await settled(topic);
    expect((await listed(topic)).receiver).toBe("down");
    await hook.answer({ status: 200 });
    const resumed = await call("POST", `${base}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ paused: false, receiver: "up" });
    // Resuming sends the due deliveries; the alarm, any retry still waiting its 10 ms.
    await ring(topic);
    expect((await stats(topic)).subscriptions[0]?.pending).toBe(0);
    expect((await hook.seen()).seqs).toContain(2);
  });

  it("answers 404 for an unknown subscription and 400 for a bad topic name", async () => {
    const topic = unique("pause");
    expect((await call("POST", `/v1/topics/${topic}/subscriptions/sub_nope/pause`)).status).toBe(404);
    expect((await call("POST", "/v1/topics/-bad/subscriptions/sub_x/pause")).status).toBe(400);
  });
});

describe("webhook targets checked before every attempt", () => {
  it("stops delivering to a loopback subscription once ALLOW_INSECURE_WEBHOOKS is off", async () => {
    const hook = new RealHook(unique("gate"));
    const topic = unique("gate");
    const sub = await subscribeWebhook(topic, { url: hook.url, maxAttempts: 1 });
    await publish(topic, { type: "allowed" });
    await settled(topic);
    expect((await stats(topic)).delivered).toBe(1);

    // As after a restart with the setting off: the object's env no longer allows loopback.
    await runInDurableObject(stub(topic), (instance: TopicObject) => {
      const self = instance as unknown as { env: Record<string, unknown> };
      self.env = { ...self.env, ALLOW_INSECURE_WEBHOOKS: "false" };
    });
    await publish(topic, { type: "refused" });
    await settled(topic);
    expect(await deadLetters(topic, sub.id)).toHaveLength(1);
    expect((await deadLetters(topic, sub.id))[0]).toMatchObject({
      lastError: "target not allowed",
      event: { type: "refused" },
    });
    expect((await hook.seen()).count).toBe(1);
    // A target refused by the rules is not a receiver that is down.
    expect((await listed(topic)).receiver).toBe("up");
  });

  it.each([...LOCAL_ONLY_TARGETS, "http://localhost:8080/hook", "https://localhost/"])(
    "refuses %s with 400",
    async (url) => {
      const res = await call("POST", `/v1/topics/${unique("t")}/subscriptions`, { url });
      expect(res.status).toBe(400);
      expect(res.error).toMatchObject({ code: "invalid_request", details: { field: "url" } });
    },
  );
});
