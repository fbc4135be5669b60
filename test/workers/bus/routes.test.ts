import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { LOOPBACK_HOOK, publish, receiver, subscribeWebhook } from "./helpers.ts";

/** `/v1/topics/{topic}`, typed so that `call` knows the route. */
const base = (topic: string) => `/v1/topics/${topic}` as `/v1/topics/${string}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /v1/topics/{topic}/events", () => {
  it("accepts one event with 202, ids and increasing seqs", async () => {
    const topic = unique("t");
    const one = await call("POST", `${base(topic)}/events`, { type: "order.created", data: { n: 1 } });
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ ids: [expect.any(String)], seqs: [1] });
    const two = await call("POST", `${base(topic)}/events`, { type: "order.created" });
    expect(two.body.seqs).toEqual([2]);
  });

  it("accepts a batch, in order, with one seq per event", async () => {
    const topic = unique("t");
    const events = Array.from({ length: 500 }, (_, i) => ({ type: "e", data: i }));
    const res = await call("POST", `${base(topic)}/events`, { events });
    expect(res.status).toBe(202);
    expect(res.body.seqs).toEqual(events.map((_, i) => i + 1));
    expect(new Set(res.body.ids).size).toBe(500);
  });

  it.each([
    ["no type", {}, "type"],
    ["an empty type", { type: "" }, "type"],
    ["a type over 128 characters", { type: "x".repeat(129) }, "type"],
    ["an unknown priority", { type: "a", priority: "urgent" }, "priority"],
    ["a non-boolean critical", { type: "a", critical: "yes" }, "critical"],
    ["an empty batch", { events: [] }, "events"],
    ["a batch over 500", { events: Array.from({ length: 501 }, () => ({ type: "a" })) }, "events"],
    ["a bad event in a batch", { events: [{ type: "a" }, { type: 5 }] }, "events.1.type"],
    ["both forms at once", { type: "a", events: [{ type: "b" }] }, "events"],
  ])("refuses %s with 400 naming the field", async (_label, body, field) => {
    const res = await call("POST", `${base(unique("t"))}/events`, body);
    expectInvalidField(res, field);
  });

  it("accepts event data of 256 KiB and refuses one byte more with 413", async () => {
    const topic = base(unique("t"));
    const at = await call("POST", `${topic}/events`, { type: "a", data: "x".repeat(256 * 1024) });
    expect(at.status).toBe(202);
    const res = await call("POST", `${topic}/events`, { type: "a", data: "x".repeat(256 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(res.error).toMatchObject({ code: "payload_too_large", details: { field: "data" } });
  });

  it("refuses a bad topic name with 400", async () => {
    const res = await call("POST", "/v1/topics/-bad/events", { type: "a" });
    expectError(res, 400, "invalid_request");
  });
});

describe("subscriptions", () => {
  it("creates with 201 and a Standard Webhooks secret, lists without it, deletes with 200", async () => {
    const topic = unique("t");
    const created = await subscribeWebhook(topic, { filter: ["order.*"], maxAttempts: 3 });
    expect(created.id).toMatch(/^sub_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(created.secret.slice(6)).length).toBeGreaterThanOrEqual(24);

    const list = await call("GET", `${base(topic)}/subscriptions`);
    expect(list.status).toBe(200);
    expect(list.body.subscriptions).toEqual([
      expect.objectContaining({ id: created.id, url: LOOPBACK_HOOK, filter: ["order.*"], maxAttempts: 3 }),
    ]);
    expect(list.text).not.toContain(created.secret);
    expect(list.text).not.toContain("secret");

    const del = await call("DELETE", `${base(topic)}/subscriptions/${created.id}`);
    expect(del.status).toBe(200);
    expect((await call("GET", `${base(topic)}/subscriptions`)).body.subscriptions).toEqual([]);
    const again = await call("DELETE", `${base(topic)}/subscriptions/${created.id}`);
    expectError(again, 404, "not_found");
  });

  it("defaults maxAttempts to 10 and lists an empty filter as all events", async () => {
    const topic = unique("t");
    await subscribeWebhook(topic);
    const list = await call("GET", `${base(topic)}/subscriptions`);
    expect(list.body.subscriptions[0]).toMatchObject({ maxAttempts: 10, filter: [], paused: false });
  });

  it.each([
    ["no url", {}, "url"],
    ["a relative url", { url: "/hook" }, "url"],
    ["plain http to a public host", { url: "http://example.com/hook" }, "url"],
    ["a private address", { url: "https://10.1.2.3/hook" }, "url"],
    ["a link-local address", { url: "https://169.254.169.254/" }, "url"],
    ["an IPv6 unique-local address", { url: "https://[fd00::1]/" }, "url"],
    ["maxAttempts 0", { url: LOOPBACK_HOOK, maxAttempts: 0 }, "maxAttempts"],
    ["maxAttempts 51", { url: LOOPBACK_HOOK, maxAttempts: 51 }, "maxAttempts"],
    ["a filter that is not a list", { url: LOOPBACK_HOOK, filter: "order.*" }, "filter"],
    ["a misplaced >", { url: LOOPBACK_HOOK, filter: ["order.>.x"] }, "filter.0"],
    ["a partial wildcard", { url: LOOPBACK_HOOK, filter: ["ord*"] }, "filter.0"],
    [
      "a max delay below the first",
      { url: LOOPBACK_HOOK, retry: { initialDelayMs: 100, maxDelayMs: 50 } },
      "retry.maxDelayMs",
    ],
  ])("refuses %s with 400", async (_label, body, field) => {
    const res = await call("POST", `${base(unique("t"))}/subscriptions`, body);
    expectInvalidField(res, field);
  });

  it("answers 404 for an unknown subscription's dead letters and resume", async () => {
    const topic = unique("t");
    expect((await call("GET", `${base(topic)}/subscriptions/sub_nope/dead-letters`)).status).toBe(404);
    expect((await call("POST", `${base(topic)}/subscriptions/sub_nope/resume`)).status).toBe(404);
  });
});

describe("GET /v1/topics/{topic}/events", () => {
  it("pages through retained events with nextSeq", async () => {
    const topic = unique("t");
    await publish(topic, { events: Array.from({ length: 5 }, (_, i) => ({ type: `e.${i}`, data: i })) });
    const first = await call("GET", `${base(topic)}/events?fromSeq=1&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(first.body.nextSeq).toBe(3);
    expect(first.body.events[0]).toEqual({
      id: expect.stringMatching(/^evt_/),
      topic,
      type: "e.0",
      data: 0,
      seq: 1,
      priority: "normal",
      critical: false,
      publishedAt: expect.any(Number),
    });
    const rest = await call("GET", `${base(topic)}/events?fromSeq=${first.body.nextSeq}`);
    expect(rest.body.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4, 5]);
    expect(rest.body.nextSeq).toBe(6);
    const empty = await call("GET", `${base(topic)}/events?fromSeq=6`);
    expect(empty.body).toEqual({ events: [], nextSeq: 6 });
  });

  it("answers an empty topic with the seq the first event will get", async () => {
    const res = await call("GET", `${base(unique("t"))}/events`);
    expect(res.body).toEqual({ events: [], nextSeq: 1 });
  });

  it("applies a filter", async () => {
    const topic = unique("t");
    await publish(topic, {
      events: [{ type: "order.created" }, { type: "invoice.paid" }, { type: "order.eu.shipped" }],
    });
    const res = await call("GET", `${base(topic)}/events?filter=order.>`);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      "order.created",
      "order.eu.shipped",
    ]);
  });

  it("applies a filter given as the parameter repeated", async () => {
    const topic = unique("t");
    await publish(topic, {
      events: [{ type: "order.created" }, { type: "user.created" }, { type: "invoice.eu.paid" }],
    });
    const res = await call("GET", `${base(topic)}/events?filter=order.*&filter=invoice.>`);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      "order.created",
      "invoice.eu.paid",
    ]);
  });

  it.each(["fromSeq=-1", "fromSeq=abc", "limit=0", "limit=1001", "filter=a.>.b", "filter=a&filter=b.>.c"])(
    "refuses %s with 400",
    async (q) => {
      const res = await call("GET", `${base(unique("t"))}/events?${q}`);
      expectError(res, 400, "invalid_request");
    },
  );
});

describe("stats and config", () => {
  it("reports the contract's counters", async () => {
    receiver(() => 503);
    const topic = unique("t");
    const sub = await subscribeWebhook(topic, { retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await call("PUT", `${base(topic)}/config`, { maxInFlight: 1 });
    await publish(topic, { events: [{ type: "a" }, { type: "b" }] });
    const res = await call("GET", `${base(topic)}/stats`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      published: 2,
      delivered: 0,
      failed: 0,
      rejected: 0,
      pending: 2,
      subscriptions: [{ id: sub.id, pending: 2, lastSeqDelivered: 0, deadLetters: 0, receiver: "up" }],
    });
  });

  it("reads and changes the config, refusing out-of-range values", async () => {
    const topic = unique("t");
    const read = await call("GET", `${base(topic)}/config`);
    expect(read.body).toEqual({
      maxUndelivered: 10_000,
      retentionMs: 86_400_000,
      maxRetained: 100_000,
      maxInFlight: 8,
      maxUndeliveredBytes: 1024 ** 3,
    });
    const put = await call("PUT", `${base(topic)}/config`, { maxUndelivered: 5 });
    expect(put.status).toBe(200);
    expect(put.body.maxUndelivered).toBe(5);
    expect(put.body.maxInFlight).toBe(8);
    const bad = await call("PUT", `${base(topic)}/config`, { maxInFlight: 0 });
    expect(bad.status).toBe(400);
  });
});

describe("GET /v1/topics/{topic}/subscribe", () => {
  it("refuses a request that is not a WebSocket upgrade", async () => {
    const res = await call("GET", `${base(unique("t"))}/subscribe`);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("upgrade");
  });

  it("refuses a bad filter or fromSeq", async () => {
    const headers = { upgrade: "websocket" };
    expect(
      (await call("GET", `${base(unique("t"))}/subscribe?filter=a*`, undefined, { headers })).status,
    ).toBe(400);
    expect(
      (await call("GET", `${base(unique("t"))}/subscribe?fromSeq=x`, undefined, { headers })).status,
    ).toBe(400);
  });

  it("needs a token, in the header or as ?token=", async () => {
    const res = await call("GET", `${base(unique("t"))}/subscribe`, undefined, {
      token: null,
      headers: { upgrade: "websocket" },
    });
    expect(res.status).toBe(401);
  });
});
