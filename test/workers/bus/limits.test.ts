/**
 * The topic's bounded work (API 1.2, issues 17 and 22): pages bounded by bytes, bad WebSocket
 * messages, the storage ceiling, and dispatch that reads only what it sends.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PRUNE_STEP, TopicObject } from "../../../durable-objects/bus/object.ts";
import { DUE_DELIVERIES_SQL } from "../../../durable-objects/bus/store.ts";
import { PAGE_BYTES } from "../../../durable-objects/logic/page-budget.ts";
import { MAX_BAD_MESSAGES } from "../../../durable-objects/logic/socket-strikes.ts";
import { call, objectSideClose, unique } from "../helpers.ts";
import { connect, publish, settled, subscribeWebhook } from "./helpers.ts";
import { RealHook } from "./real-receiver.ts";

const KIB = 1024;
const big = (i: number) => ({ type: "big", data: `${i}`.padEnd(256 * KIB, "x") });

/** Publishes `n` events of 256 KiB, three to a request (a request stays under 1 MiB). */
async function publishBig(topic: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 3) {
    const events = Array.from({ length: Math.min(3, n - i) }, (_, j) => big(i + j));
    await publish(topic, { events });
  }
}

describe("pages bounded by bytes", () => {
  it("cuts an event page at 8 MiB of event text, and nextSeq goes on from there", async () => {
    const topic = unique("pages");
    await publishBig(topic, 40);
    const seqs: number[] = [];
    let fromSeq = 1;
    for (let page = 0; page < 5 && seqs.length < 40; page++) {
      const res = await call("GET", `/v1/topics/${topic}/events?fromSeq=${fromSeq}&limit=1000`);
      expect(res.status).toBe(200);
      expect(res.text.length).toBeLessThan(PAGE_BYTES + 64 * KIB);
      expect(res.body.events.length).toBeGreaterThan(0);
      seqs.push(...res.body.events.map((e: { seq: number }) => e.seq));
      fromSeq = res.body.nextSeq;
    }
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(fromSeq).toBe(41);
    // A budget smaller than one event still returns that event.
    const one = await call("GET", `/v1/topics/${topic}/events?fromSeq=40&limit=1`);
    expect(one.body.events).toHaveLength(1);
    expect(one.body.nextSeq).toBe(41);
  });

  it("cuts a dead-letter page at 8 MiB, with a cursor to the rest", async () => {
    const hook = new RealHook(unique("dead"));
    await hook.answer({ status: 400 });
    const topic = unique("dead");
    const sub = await subscribeWebhook(topic, { url: hook.url, maxAttempts: 1 });
    await publishBig(topic, 40);
    await settled(topic);
    expect((await call("GET", `/v1/topics/${topic}/stats`)).body.failed).toBe(40);
    const seqs: number[] = [];
    let cursor: string | null = "";
    for (let page = 0; page < 5 && cursor !== null; page++) {
      const after: string = cursor ? `&cursor=${cursor}` : "";
      const res = await call(
        "GET",
        `/v1/topics/${topic}/subscriptions/${sub.id}/dead-letters?limit=1000${after}`,
      );
      expect(res.status).toBe(200);
      expect(res.text.length).toBeLessThan(PAGE_BYTES + 64 * KIB);
      expect(res.body.deadLetters.length).toBeGreaterThan(0);
      seqs.push(...res.body.deadLetters.map((d: { event: { seq: number } }) => d.event.seq));
      cursor = res.body.cursor;
    }
    expect(cursor).toBeNull();
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const bad = await call("GET", `/v1/topics/${topic}/subscriptions/${sub.id}/dead-letters?cursor=x`);
    expect(bad.status).toBe(400);
  });

  it("replays 40 events of 256 KiB to a socket in order, then goes live without a gap or a repeat", async () => {
    const topic = unique("replay");
    await publishBig(topic, 40);
    const sub = await connect(topic, "fromSeq=1");
    await publish(topic, { type: "live" });
    const seqs: number[] = [];
    for (let i = 0; i < 41; i++) seqs.push((await sub.nextEvent(10_000)).seq);
    expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    await publish(topic, { type: "after" });
    expect(await sub.nextEvent()).toMatchObject({ seq: 42, type: "after" });
    sub.send({ type: "ping" });
    expect(await sub.next()).toEqual({ type: "pong" });
    sub.ws.close();
  });
});

describe("bad WebSocket messages", () => {
  it("answers each with an error and closes the socket with 1008 after 10", async () => {
    const topic = unique("junk");
    const sub = await connect(topic);
    const closed = new Promise<number>((resolve) => sub.ws.addEventListener("close", (e) => resolve(e.code)));
    const junk = ["not json", "{}", '{"type":"ack"}', '{"type":"ack","seq":"1"}', "null", "[1]"];
    for (let i = 0; i < MAX_BAD_MESSAGES; i++) sub.ws.send(junk[i % junk.length] as string);
    for (let i = 0; i < MAX_BAD_MESSAGES; i++) {
      expect(await sub.next()).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    }
    // Still open after ten: good messages work, and do not count.
    sub.send({ type: "ack", seq: 1 });
    sub.ws.send('{ "type": "ping" }');
    expect(await sub.next()).toEqual({ type: "pong" });
    sub.ws.send(new Uint8Array([1, 2, 3]));
    expect(await closed).toBe(1008);
    // Other callers were not held up.
    expect((await call("POST", `/v1/topics/${topic}/events`, { type: "a" })).status).toBe(202);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("keeps a flood of 20,000 junk frames away from the topic's object: it receives the ack only", async () => {
    const topic = unique("flood");
    const received = vi.spyOn(TopicObject.prototype, "webSocketMessage");
    const objectSideClosed = objectSideClose(TopicObject);
    const sub = await connect(topic);
    const closed = new Promise<number>((resolve) => sub.ws.addEventListener("close", (e) => resolve(e.code)));
    const [seq] = await publish(topic, { type: "order.paid", critical: true });
    expect(await sub.nextEvent()).toMatchObject({ seq, critical: true });
    sub.ws.send(`{"type": "ack", "seq": ${seq}}`);
    for (let i = 0; i < 20_000; i++) sub.ws.send(`junk ${i}`);
    expect(await closed).toBe(1008);
    // The relay closed the object's socket behind the ack it had forwarded.
    expect(await objectSideClosed).toBe(1008);
    expect(received.mock.calls.map(([, message]) => message)).toEqual([`{"type":"ack","seq":${seq}}`]);
    expect(sub.buffered().filter((m) => m.type === "error")).toHaveLength(MAX_BAD_MESSAGES);
  });
});

describe("the storage ceiling", () => {
  it("refuses every publish that would pass it with 429 reason storage, critical events included", async () => {
    const topic = unique("ceiling");
    const config = await call("PUT", `/v1/topics/${topic}/config`, { maxUndeliveredBytes: 600_000 });
    expect(config.body.maxUndeliveredBytes).toBe(600_000);
    await subscribeWebhook(topic, { url: "http://127.0.0.1:9/hook" });
    await publish(topic, { events: [big(1), big(2)].map((e) => ({ ...e, critical: true })) });
    const refused = await call("POST", `/v1/topics/${topic}/events`, { ...big(3), critical: true });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.error).toMatchObject({
      code: "backpressure",
      details: { reason: "storage", limit: 600_000 },
    });
    const plain = await call("POST", `/v1/topics/${topic}/events`, big(4));
    expect(plain.status).toBe(429);
    expect(plain.error?.details?.reason).toBe("storage");
    // Raising the ceiling lets them in again.
    await call("PUT", `/v1/topics/${topic}/config`, { maxUndeliveredBytes: 2_000_000 });
    expect((await call("POST", `/v1/topics/${topic}/events`, { ...big(3), critical: true })).status).toBe(
      202,
    );
  });

  it("refuses a ceiling above 1 GiB", async () => {
    const res = await call("PUT", `/v1/topics/${unique("c")}/config`, { maxUndeliveredBytes: 1024 ** 3 + 1 });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("maxUndeliveredBytes");
  });
});

describe("dispatch reads only what it sends", () => {
  it("reads the same few rows for the next batch whether 1,000 or 100,000 deliveries are pending", async () => {
    const topic = unique("flat");
    const sub = await subscribeWebhook(topic, { url: "http://127.0.0.1:9/hook" });
    const reads: Record<number, { now: number; old: number }> = {};
    await runInDurableObject(env.TOPICS.getByName(topic), (_o, state) => {
      const sql = state.storage.sql;
      let inserted = 0;
      for (const n of [1_000, 10_000, 100_000]) {
        // Pending deliveries at every rank, all due, as a backlog behind a slow receiver leaves them.
        sql.exec(
          `WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?)
           INSERT INTO deliveries (sub_id, seq, rank, critical, due_at, bytes) SELECT ?, i, i % 4, 0, 0, 10 FROM s`,
          inserted + 1,
          n,
          sub.id,
        );
        inserted = n;
        const now = sql.exec(DUE_DELIVERIES_SQL, sub.id, Date.now(), 8);
        now.toArray();
        // The statement before issue 17: every due row of the topic, sorted.
        const old = sql.exec(
          "SELECT sub_id, seq, rank, critical, attempts FROM deliveries WHERE due_at <= ? ORDER BY rank, seq LIMIT ?",
          Date.now(),
          8,
        );
        old.toArray();
        reads[n] = { now: now.rowsRead, old: old.rowsRead };
      }
      const plan = sql
        .exec(`EXPLAIN QUERY PLAN ${DUE_DELIVERIES_SQL}`, sub.id, 0, 8)
        .toArray()
        .map((r) => String(r.detail))
        .join("; ");
      expect(plan).toContain("deliveries_order");
      expect(plan).not.toContain("TEMP B-TREE");
    });
    console.log("rows read for the next batch of 8 (now / before):", JSON.stringify(reads));
    expect(reads[100_000]?.now).toBe(reads[1_000]?.now);
    expect(reads[100_000]?.now).toBeLessThanOrEqual(16);
  });
});

describe("retention in bounded steps", () => {
  it("prunes at most PRUNE_STEP events a step, the alarm taking the rest", async () => {
    const topic = unique("prune");
    for (let i = 0; i < 5; i++) {
      await publish(topic, { events: Array.from({ length: 500 }, () => ({ type: "a" })) });
    }
    const count = () =>
      runInDurableObject(env.TOPICS.getByName(topic), (_o, state) =>
        Number(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n),
      );
    await call("PUT", `/v1/topics/${topic}/config`, { maxRetained: 10 });
    expect(await count()).toBe(2_500 - PRUNE_STEP);
    expect(await runDurableObjectAlarm(env.TOPICS.getByName(topic))).toBe(true);
    expect(await count()).toBe(2_500 - 2 * PRUNE_STEP);
    await runDurableObjectAlarm(env.TOPICS.getByName(topic));
    expect(await count()).toBe(10);
    const page = await call("GET", `/v1/topics/${topic}/events?limit=100`);
    expect(page.body.events.map((e: { seq: number }) => e.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => 2_491 + i),
    );
  });
});
