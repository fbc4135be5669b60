/**
 * Redis subscription targets without Redis configured (this project has no UPSTASH_* variables):
 * bad bodies are `400 invalid_request` naming the field, a valid one is `400 not_configured`.
 */
import { describe, expect, it } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";

const create = (topic: string, body: unknown) => call("POST", `/v1/topics/${topic}/subscriptions`, body);

describe("Redis subscription targets", () => {
  it.each([
    ["neither url nor redis", {}, "url"],
    ["both url and redis", { url: "https://example.com/h", redis: { stream: "s" } }, "redis"],
    ["neither stream nor channel", { redis: {} }, "redis.stream"],
    ["both stream and channel", { redis: { stream: "s", channel: "c" } }, "redis.channel"],
    ["an empty stream name", { redis: { stream: "" } }, "redis.stream"],
    ["an empty channel name", { redis: { channel: "" } }, "redis.channel"],
    ["an oversized stream name", { redis: { stream: "s".repeat(257) } }, "redis.stream"],
    ["an oversized channel name", { redis: { channel: "c".repeat(257) } }, "redis.channel"],
    ["maxLen 0", { redis: { stream: "s", maxLen: 0 } }, "redis.maxLen"],
    ["maxLen over the limit", { redis: { stream: "s", maxLen: 10_000_001 } }, "redis.maxLen"],
    ["maxLen on a channel", { redis: { channel: "c", maxLen: 5 } }, "redis.maxLen"],
    ["an unknown field", { redis: { stream: "s", bogus: 1 } }, "redis.bogus"],
    ["a stream that is not a string", { redis: { stream: 5 } }, "redis.stream"],
  ])("refuse %s", async (_name, body, field) => {
    const res = await create(unique("rin"), body);
    expectInvalidField(res, field);
  });

  it("answer not_configured for a valid body when Redis is not configured", async () => {
    for (const redis of [{ stream: "s".repeat(256), maxLen: 10_000_000 }, { channel: "c" }]) {
      const res = await create(unique("rin"), { redis });
      expectError(res, 400, "not_configured");
      expect(res.error?.details?.field).toBe("redis");
    }
  });

  it("still create webhooks with their secret", async () => {
    const res = await create(unique("rin"), { url: "http://127.0.0.1:9/hook" });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_/);
  });
});
