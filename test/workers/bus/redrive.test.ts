import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { publish, receiver, ring, settled, subscribeWebhook } from "./helpers.ts";

const stats = async (topic: string) => (await call("GET", `/v1/topics/${topic}/stats`)).body;
/** The redrive route's path, typed so that `call` knows the route. */
const redrivePath = (topic: string, id: string) =>
  `/v1/topics/${topic}/subscriptions/${id}/dead-letters/redrive` as `/v1/topics/${string}/subscriptions/${string}/dead-letters/redrive`;
const deadSeqs = async (topic: string, id: string): Promise<number[]> =>
  (await call("GET", `/v1/topics/${topic}/subscriptions/${id}/dead-letters`)).body.deadLetters.map(
    (d: { event: { seq: number } }) => d.event.seq,
  );

/**
 * A receiver that fails until `open()`; from then on it holds each request until `release()`, so
 * that redriven deliveries stay pending (and countable) whenever the alarm happens to run.
 */
function gatedReceiver() {
  let release = () => {};
  const released = new Promise<number>((resolve) => {
    release = () => resolve(200);
  });
  let phase: "down" | "held" = "down";
  const received = receiver(() => (phase === "down" ? 500 : released));
  return {
    received,
    open: () => {
      phase = "held";
    },
    release: () => release(),
  };
}

/** Publishes `events` to a new subscription that dead-letters each after one failed attempt. */
async function deadLettered(topic: string, events: { type: string; priority?: string }[]) {
  const sub = await subscribeWebhook(topic, { maxAttempts: 1, filter: ["order.>"] });
  const seqs = await publish(topic, { events });
  await settled(topic);
  expect((await stats(topic)).failed).toBe(events.length);
  return { sub, seqs };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /v1/topics/{topic}/subscriptions/{id}/dead-letters/redrive", () => {
  it.each([
    ["over 1000 seqs", { seqs: Array.from({ length: 1001 }, (_, i) => i + 1) }, "seqs"],
    ["seqs that is not a list", { seqs: 3 }, "seqs"],
    ["a seq of 0", { seqs: [0] }, "seqs.0"],
    ["a fractional seq", { seqs: [1, 2.5] }, "seqs.1"],
    ["a seq that is a string", { seqs: ["1"] }, "seqs.0"],
  ])("refuses %s with 400 naming the field", async (_label, body, field) => {
    const res = await call("POST", redrivePath(unique("t"), "sub_x"), body);
    expectInvalidField(res, field);
  });

  it("answers 404 not_found for an unknown topic or subscription, and 400 for a bad topic name", async () => {
    const unknownTopic = await call("POST", redrivePath(unique("t"), "sub_nope"), {});
    expectError(unknownTopic, 404, "not_found");

    const topic = unique("t");
    const sub = await subscribeWebhook(topic);
    expect((await call("POST", redrivePath(topic, "sub_nope"))).status).toBe(404);
    await call("DELETE", `/v1/topics/${topic}/subscriptions/${sub.id}`);
    const deleted = await call("POST", redrivePath(topic, sub.id), { seqs: [1] });
    expectError(deleted, 404, "not_found");

    expect((await call("POST", redrivePath("-bad", "sub_x"))).status).toBe(400);
  });

  it("takes no body, or a JSON body without seqs, as every dead letter", async () => {
    const topic = unique("t");
    const sub = await subscribeWebhook(topic);
    const bare = await call("POST", redrivePath(topic, sub.id));
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual({ redriven: 0 });
    expect((await call("POST", redrivePath(topic, sub.id), {})).body).toEqual({ redriven: 0 });
  });

  it("is in the OpenAPI document, with an optional body", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const op = doc.paths["/v1/topics/{topic}/subscriptions/{id}/dead-letters/redrive"]?.post;
    expect(op?.requestBody?.required).toBe(false);
    expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(["200", "400", "404"]));
  });
});

describe("redriving dead letters", () => {
  it("delivers them again in priority order, attempts reset, signed, with exact stats before and after", async () => {
    const hook = gatedReceiver();
    const topic = unique("redrive");
    // One in flight, to see the order; one retained event, so that the dead letters' events are
    // pruned and the redrive has to restore them from the dead letters' copies.
    await call("PUT", `/v1/topics/${topic}/config`, { maxInFlight: 1, maxRetained: 1 });
    const { sub, seqs } = await deadLettered(topic, [
      { type: "order.a", priority: "low" },
      { type: "order.b", priority: "high" },
      { type: "order.c" },
      { type: "order.d", priority: "low" },
    ]);
    await publish(topic, { type: "noise" });
    expect(
      (await call("GET", `/v1/topics/${topic}/events`)).body.events.map((e: { seq: number }) => e.seq),
    ).toEqual([5]);
    const before = await stats(topic);
    expect(before).toMatchObject({ delivered: 0, failed: 4, pending: 0 });
    expect(before.subscriptions[0]).toMatchObject({ pending: 0, deadLetters: 4, lastSeqDelivered: 0 });

    hook.open();
    const res = await call("POST", redrivePath(topic, sub.id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ redriven: 4 });
    const after = await stats(topic);
    expect(after).toMatchObject({ delivered: 0, failed: 0, pending: 4 });
    expect(after.subscriptions[0]).toMatchObject({ pending: 4, deadLetters: 0 });
    expect(await deadSeqs(topic, sub.id)).toEqual([]);

    hook.release();
    await ring(topic);
    expect((await stats(topic)).delivered).toBe(4);
    const delivered = hook.received.filter((r) => r.status === 200);
    expect(delivered.map((r) => r.event.type)).toEqual(["order.b", "order.c", "order.a", "order.d"]);
    const first = delivered[0] as (typeof delivered)[number];
    const event = new Webhook(sub.secret).verify(first.body, Object.fromEntries(first.headers));
    expect(event).toMatchObject({ topic, seq: seqs[1], type: "order.b", priority: "high" });
    expect(first.headers.get("webhook-id")).toBe((event as { id: string }).id);

    const final = await stats(topic);
    expect(final).toMatchObject({ delivered: 4, failed: 0, pending: 0 });
    expect(final.subscriptions[0]).toMatchObject({ pending: 0, deadLetters: 0, lastSeqDelivered: 4 });
  });

  it("redrives only the listed seqs that are dead letters of the subscription", async () => {
    const hook = gatedReceiver();
    const topic = unique("subset");
    const { sub } = await deadLettered(topic, [
      { type: "order.a" },
      { type: "order.b" },
      { type: "order.c" },
      { type: "order.d" },
    ]);
    const other = await subscribeWebhook(topic, { filter: ["other"] });
    hook.open();
    // An empty list names no dead letter: nothing moves (absent is what means all).
    expect((await call("POST", redrivePath(topic, sub.id), { seqs: [] })).body).toEqual({ redriven: 0 });
    expect(await deadSeqs(topic, sub.id)).toEqual([1, 2, 3, 4]);
    const res = await call("POST", redrivePath(topic, sub.id), { seqs: [2, 4, 4, 999] });
    expect(res.body).toEqual({ redriven: 2 });
    expect(await deadSeqs(topic, sub.id)).toEqual([1, 3]);
    expect((await call("POST", redrivePath(topic, sub.id), { seqs: [2, 4] })).body).toEqual({ redriven: 0 });
    expect((await call("POST", redrivePath(topic, other.id), { seqs: [1] })).body).toEqual({ redriven: 0 });
    expect((await stats(topic)).subscriptions[0]).toMatchObject({ pending: 2, deadLetters: 2 });

    hook.release();
    await ring(topic);
    expect((await stats(topic)).delivered).toBe(2);
    const seqs = hook.received.filter((r) => r.status === 200).map((r) => r.event.seq);
    expect(seqs.sort((a, b) => a - b)).toEqual([2, 4]);
    expect(await stats(topic)).toMatchObject({ failed: 2, pending: 0 });
    expect(await deadSeqs(topic, sub.id)).toEqual([1, 3]);
  });

  it("is not refused by backpressure: the redriven deliveries count as pending", async () => {
    const hook = gatedReceiver();
    const topic = unique("bp");
    await call("PUT", `/v1/topics/${topic}/config`, { maxUndelivered: 2 });
    const { sub } = await deadLettered(topic, [
      { type: "order.a" },
      { type: "order.b" },
      { type: "order.c" },
    ]);
    hook.open();
    expect((await call("POST", redrivePath(topic, sub.id))).body).toEqual({ redriven: 3 });
    expect((await stats(topic)).pending).toBe(3);
    const refused = await call("POST", `/v1/topics/${topic}/events`, { type: "order.d" });
    expectError(refused, 429, "backpressure");
    hook.release();
    await ring(topic);
    expect((await stats(topic)).delivered).toBe(3);
  });

  it("leaves a paused subscription paused: one attempt each, and a success resumes it", async () => {
    let up = false;
    const received = receiver(() => (up ? 200 : 500));
    const topic = unique("paused");
    const { sub } = await deadLettered(
      topic,
      Array.from({ length: 5 }, (_, i) => ({ type: `order.${i}` })),
    );
    const listed = async () => (await call("GET", `/v1/topics/${topic}/subscriptions`)).body.subscriptions[0];
    expect((await listed())?.paused).toBe(true);

    // Still down: each redriven event is tried once more and goes back to the dead letters.
    expect((await call("POST", redrivePath(topic, sub.id), { seqs: [1, 2] })).body).toEqual({ redriven: 2 });
    expect((await listed())?.paused).toBe(true);
    await ring(topic);
    expect((await stats(topic)).subscriptions[0]?.deadLetters).toBe(5);
    expect(received).toHaveLength(7);
    expect((await listed())?.paused).toBe(true);

    up = true;
    expect((await call("POST", redrivePath(topic, sub.id))).body).toEqual({ redriven: 5 });
    await ring(topic);
    expect((await stats(topic)).delivered).toBe(5);
    expect((await listed())?.paused).toBe(false);
    expect((await stats(topic)).subscriptions[0]).toMatchObject({ pending: 0, deadLetters: 0 });
  });
});
