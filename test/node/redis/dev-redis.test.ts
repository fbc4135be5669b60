/** `npm run dev`'s Redis part: the gateway when Redis answers, the user's `--var` winning, one line without Redis. */
import { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { redisAnswers, startDevRedis, userSetsVar } from "../../../scripts/lib/dev-redis.ts";

describe("npm run dev with Redis", () => {
  it("starts a gateway over REDIS_URL and passes both variables to wrangler", async () => {
    const dev = await startDevRedis(["--port", "9000"], { REDIS_URL: "redis://127.0.0.1:6379" });
    try {
      expect(dev.gateway).toBeDefined();
      const url = dev.gateway?.url as string;
      expect(dev.args).toEqual([
        "--var",
        `UPSTASH_REDIS_REST_URL:${url}`,
        "--var",
        `UPSTASH_REDIS_REST_TOKEN:${dev.gateway?.token}`,
      ]);
      const redis = new Redis({ url, token: dev.gateway?.token as string, enableTelemetry: false });
      expect(await redis.ping()).toBe("PONG");
    } finally {
      await dev.gateway?.close();
    }
  });

  it("leaves out a variable the user sets after --", async () => {
    const argv = ["--var", "UPSTASH_REDIS_REST_URL:https://mine.upstash.io", "--port", "1"];
    expect(userSetsVar(argv, "UPSTASH_REDIS_REST_URL")).toBe(true);
    expect(userSetsVar(["--var=UPSTASH_REDIS_REST_TOKEN:t"], "UPSTASH_REDIS_REST_TOKEN")).toBe(true);
    expect(userSetsVar(argv, "UPSTASH_REDIS_REST_TOKEN")).toBe(false);
    const dev = await startDevRedis(argv, {});
    try {
      expect(dev.args).toEqual(["--var", `UPSTASH_REDIS_REST_TOKEN:${dev.gateway?.token}`]);
    } finally {
      await dev.gateway?.close();
    }
  });

  it("says so in one line when no Redis answers", async () => {
    expect(await redisAnswers("redis://127.0.0.1:9")).toBe(false);
    const dev = await startDevRedis([], { REDIS_URL: "redis://127.0.0.1:9" });
    expect(dev.gateway).toBeUndefined();
    expect(dev.args).toEqual([]);
    expect(dev.message).not.toContain("\n");
    expect(dev.message).toMatch(/No Redis at redis:\/\/127\.0\.0\.1:9/);
  });
});
