/**
 * Redis sinks of the event bus against a real Redis, through the real gateway and @upstash/redis:
 * stream entries in dispatch order with every field, read by a consumer group, exactly once
 * through lost answers and outages; channels; dead letters and redrive.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { call, unique } from "../workers/helpers.ts";
import { faults, healthy, redis, until } from "./helpers.ts";

const stub = (topic: string) => env.TOPICS.getByName(topic);
const FAST_RETRY = { initialDelayMs: 10, maxDelayMs: 20 };

/** Creates a Redis subscription and expects 201 with an id and no secret. */
async function subscribe(topic: string, body: Record<string, unknown>): Promise<string> {
  const res = await call("POST", `/v1/topics/${topic}/subscriptions`, { retry: FAST_RETRY, ...body });
  expect(res.status, res.text).toBe(201);
  expect(Object.keys(res.body)).toEqual(["id"]);
  return res.body.id;
}

async function publish(
  topic: string,
  events: Record<string, unknown>[],
): Promise<{ ids: string[]; seqs: number[] }> {
  const res = await call("POST", `/v1/topics/${topic}/events`, { events });
  expect(res.status, res.text).toBe(202);
  return res.body;
}

/** The stream's entries as field maps, oldest first. */
async function entries(stream: string): Promise<Record<string, string>[]> {
  // Without automatic deserialisation the client hands back Redis's own reply: [[id, [f, v, ...]], ...].
  const raw = (await redis().xrange(stream, "-", "+")) as unknown as [string, string[]][];
  return raw.map(([, fields]) => {
    const entry: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
    return entry;
  });
}

/** Waits, driving the topic's alarm, until the stream holds `n` entries. */
async function streamLength(topic: string, stream: string, n: number): Promise<void> {
  await until(
    async () => (await redis().xlen(stream)) >= n,
    () => runDurableObjectAlarm(stub(topic)),
    30_000,
  );
}

afterEach(() => healthy());

describe("Redis stream sinks", () => {
  it("append every event once in dispatch order, each field a string", async () => {
    const topic = unique("redistest-rs-order");
    const stream = unique("redistest-stream");
    await call("PUT", `/v1/topics/${topic}/config`, { maxInFlight: 1 });
    const id = await subscribe(topic, { redis: { stream } });
    const { ids, seqs } = await publish(topic, [
      { type: "a.low", data: { n: 1 }, priority: "low" },
      { type: "a.normal", data: "text ✓" },
      { type: "a.high", data: [1, 2], priority: "high" },
      { type: "a.crit", data: null, critical: true, priority: "critical" },
    ]);
    await streamLength(topic, stream, 4);
    const got = await entries(stream);
    expect(got.map((e) => e.type)).toEqual(["a.crit", "a.high", "a.normal", "a.low"]);
    const normal = got[2] as Record<string, string>;
    expect(normal).toEqual({
      id: ids[1],
      seq: String(seqs[1]),
      type: "a.normal",
      priority: "normal",
      critical: "false",
      publishedAt: normal.publishedAt,
      data: '"text ✓"',
    });
    expect(Number(normal.publishedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(got[0]?.critical).toBe("true");
    expect(got[3]?.data).toBe('{"n":1}');

    const listing = await call("GET", `/v1/topics/${topic}/subscriptions`);
    expect(listing.body.subscriptions[0]).toMatchObject({ id, redis: { stream } });
    expect(listing.body.subscriptions[0]?.url).toBeUndefined();
    expect(listing.body.subscriptions[0]).not.toHaveProperty("secret");
    const stats = await call("GET", `/v1/topics/${topic}/stats`);
    expect(stats.body.subscriptions[0]).toMatchObject({ id, pending: 0, lastSeqDelivered: seqs[3] });
  });

  it("feed a consumer group that reads with XREADGROUP and acknowledges with XACK", async () => {
    const topic = unique("redistest-rs-group");
    const stream = unique("redistest-stream");
    await subscribe(topic, { redis: { stream } });
    const { ids } = await publish(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ type: "g.event", data: { i } })),
    );
    await streamLength(topic, stream, 20);
    const r = redis();
    await r.xgroup(stream, { type: "CREATE", group: "workers", id: "0" });
    const seen: string[] = [];
    for (const consumer of ["c1", "c2"]) {
      const batch = (await r.xreadgroup("workers", consumer, stream, ">", { count: 10 })) as [
        string,
        [string, string[]][],
      ][];
      for (const [entryId, fields] of batch[0]?.[1] ?? []) {
        seen.push(fields[fields.indexOf("id") + 1] as string);
        await r.xack(stream, "workers", entryId);
      }
    }
    expect(seen.sort()).toEqual([...ids].sort());
    const pending = (await r.xpending(stream, "workers", "-", "+", 100)) as unknown[];
    expect(pending).toEqual([]);
  });

  it("never append twice when answers are lost after Redis applied them, nor lose events while Redis is down", async () => {
    const topic = unique("redistest-rs-faults");
    const stream = unique("redistest-stream");
    await subscribe(topic, { redis: { stream }, maxAttempts: 50 });
    // Lost answers: the script ran, the client (and then the dispatcher) tries again.
    await faults({ dropAnswers: 15, dropCommand: "evalsha" });
    const first = await publish(
      topic,
      Array.from({ length: 100 }, (_, i) => ({ type: "f.event", data: { i } })),
    );
    await until(
      async () => (await faults()).counters.dropped >= 15,
      () => runDurableObjectAlarm(stub(topic)),
    );
    // Redis unreachable: every attempt fails, nothing is lost.
    await faults({ down: true });
    const second = await publish(
      topic,
      Array.from({ length: 100 }, (_, i) => ({ type: "f.event", data: { i: 100 + i } })),
    );
    await until(
      async () => (await faults()).counters.refused > 0,
      () => runDurableObjectAlarm(stub(topic)),
    );
    await faults({ down: false });
    await streamLength(topic, stream, 200);
    const got = await entries(stream);
    const idsInStream = got.map((e) => e.id);
    expect(new Set(idsInStream).size).toBe(idsInStream.length);
    expect([...idsInStream].sort()).toEqual([...first.ids, ...second.ids].sort());
    const stats = await call("GET", `/v1/topics/${topic}/stats`);
    expect(stats.body.subscriptions[0]).toMatchObject({ pending: 0, deadLetters: 0 });
  });

  it("spend no attempt while Redis is unreachable: the receiver goes down, and the events follow once it is back", async () => {
    const topic = unique("redistest-rs-down");
    const stream = unique("redistest-stream");
    const id = await subscribe(topic, { redis: { stream }, maxAttempts: 1 });
    await faults({ down: true });
    const { ids } = await publish(
      topic,
      Array.from({ length: 3 }, (_, i) => ({ type: "d.event", data: i })),
    );
    const listed = async () => (await call("GET", `/v1/topics/${topic}/subscriptions`)).body.subscriptions[0];
    await until(
      async () => (await listed())?.receiver === "down",
      () => runDurableObjectAlarm(stub(topic)),
    );
    const dead = await call("GET", `/v1/topics/${topic}/subscriptions/${id}/dead-letters`);
    expect(dead.body.deadLetters).toEqual([]);
    await faults({ down: false });
    // The next probe (at most 15 s after it went down) gets through and the backlog follows.
    await until(
      async () => (await redis().xlen(stream)) === 3,
      () => runDurableObjectAlarm(stub(topic)),
      30_000,
    );
    expect((await entries(stream)).map((e) => e.id).sort()).toEqual([...ids].sort());
    expect((await listed())?.receiver).toBe("up");
  }, 40_000);

  it("dead-letter after maxAttempts and append a redriven event once", async () => {
    const topic = unique("redistest-rs-dead");
    const stream = unique("redistest-stream");
    const id = await subscribe(topic, { redis: { stream }, maxAttempts: 1 });
    // Redis answers, with an error: the key holds a string, so the append is refused (WRONGTYPE).
    // An unreachable Redis would spend no attempt (a receiver that is down).
    await redis().set(stream, "not a stream");
    await publish(topic, [{ type: "d.event", data: 1 }]);
    const dead = await until(
      async () => {
        const res = await call("GET", `/v1/topics/${topic}/subscriptions/${id}/dead-letters`);
        return res.body.deadLetters.length > 0 ? res.body.deadLetters : undefined;
      },
      () => runDurableObjectAlarm(stub(topic)),
    );
    expect(dead[0]?.lastError).toMatch(/^Redis: .*WRONGTYPE/);
    expect((await call("GET", `/v1/topics/${topic}/stats`)).body.subscriptions[0]?.receiver).toBe("up");
    await redis().del(stream);
    const redriven = await call("POST", `/v1/topics/${topic}/subscriptions/${id}/dead-letters/redrive`, {});
    expect(redriven.body).toEqual({ redriven: 1 });
    await streamLength(topic, stream, 1);
    const again = await call("POST", `/v1/topics/${topic}/subscriptions/${id}/dead-letters/redrive`, {});
    expect(again.body).toEqual({ redriven: 0 });
    expect(await redis().xlen(stream)).toBe(1);
  });

  it("trim the stream approximately to maxLen", async () => {
    const topic = unique("redistest-rs-trim");
    const stream = unique("redistest-stream");
    await subscribe(topic, { redis: { stream, maxLen: 10 } });
    const { ids } = await publish(
      topic,
      Array.from({ length: 300 }, (_, i) => ({ type: "t.event", data: i })),
    );
    await until(
      async () => {
        const stats = await call("GET", `/v1/topics/${topic}/stats`);
        return stats.body.subscriptions[0]?.pending === 0;
      },
      () => runDurableObjectAlarm(stub(topic)),
    );
    const length = await redis().xlen(stream);
    // `~` trims whole radix-tree nodes (100 entries by default): far fewer than 300 remain.
    expect(length).toBeLessThan(ids.length);
  });
});

describe("Redis channel sinks", () => {
  it("publish each event's envelope to a connected subscriber", async () => {
    const topic = unique("redistest-rc");
    const channel = unique("redistest-channel");
    await subscribe(topic, { redis: { channel } });
    const received: string[] = [];
    const subscriber = redis().subscribe<string>(channel);
    const ready = new Promise<void>((resolve) => subscriber.on("subscribe", () => resolve()));
    subscriber.on("message", ({ message }) => received.push(message));
    await ready;
    const { ids, seqs } = await publish(topic, [
      { type: "c.one", data: { a: 1 } },
      { type: "c.two", data: "x" },
    ]);
    await until(
      async () => received.length >= 2,
      () => runDurableObjectAlarm(stub(topic)),
    );
    await subscriber.unsubscribe();
    const envelopes = received.map((m) => JSON.parse(m));
    expect(envelopes.map((e) => e.id).sort()).toEqual([...ids].sort());
    const one = envelopes.find((e) => e.type === "c.one");
    expect(one).toEqual({
      id: ids[0],
      topic,
      type: "c.one",
      data: { a: 1 },
      seq: seqs[0],
      priority: "normal",
      publishedAt: one.publishedAt,
    });
  });
});
