/** Mirrors without Redis configured (this project has no UPSTASH_* variables): `400 not_configured`. */
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";
import { mint } from "../tokens/helpers.ts";

describe("state mirrors without Redis", () => {
  it("answer not_configured naming redis, after the body is checked", async () => {
    const ns = unique("mc");
    const bad = await call("PUT", `/v1/mirrors/state/${ns}`, { redis: { prefix: "p", bogus: true } });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ code: "invalid_request", details: { field: "redis.bogus" } });
    for (const [method, body] of [
      ["PUT", { redis: { prefix: "" } }],
      ["GET", undefined],
      ["DELETE", undefined],
    ] as const) {
      const res = await call(method, `/v1/mirrors/state/${ns}`, body);
      expect(res.status, res.text).toBe(400);
      expect(res.error).toMatchObject({ code: "not_configured", details: { field: "redis" } });
    }
  });

  it("answer not_configured before a token's rate limit, as the contract orders them", async () => {
    const ns = unique("mc");
    const { token } = await mint({
      scopes: [{ resource: `state:${ns}`, actions: ["read", "admin"] }],
      rateLimit: { requests: 1, periodMs: 60_000 },
    });
    expect((await call("GET", `/v1/state/${ns}/k`, undefined, { token })).status).toBe(404);
    expectError(await call("GET", `/v1/state/${ns}/k`, undefined, { token }), 429, "rate_limited");
    const mirror = await call("PUT", `/v1/mirrors/state/${ns}`, { redis: { prefix: "" } }, { token });
    expectError(mirror, 400, "not_configured");
    // A Redis subscription on a topic, likewise; a webhook one is past the limit.
    const topic = unique("mc");
    const topicToken = await mint({
      scopes: [{ resource: `topics:${topic}`, actions: ["admin"] }],
      rateLimit: { requests: 1, periodMs: 60_000 },
    });
    const subscribe = (body: unknown) =>
      call("POST", `/v1/topics/${topic}/subscriptions`, body, { token: topicToken.token });
    expect((await subscribe({ url: "http://127.0.0.1:9/hook" })).status).toBe(201);
    expectError(await subscribe({ redis: { stream: "s" } }), 400, "not_configured");
    expectError(await subscribe({ url: "http://127.0.0.1:9/hook" }), 429, "rate_limited");
  });

  it("leave state writes alone", async () => {
    const ns = unique("mc");
    expect((await call("PUT", `/v1/state/${ns}/k`, { value: 1 })).status).toBe(200);
  });
});
