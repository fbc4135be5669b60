/** A bad UPSTASH_REDIS_REST_URL stops the Worker at load; an unset one is allowed. */
import { describe, expect, it } from "vitest";
import { checkRedisUrl } from "../../../workers/redis-config.ts";

describe("checkRedisUrl", () => {
  it("accepts an unset URL and plain http(s) URLs", () => {
    expect(() => checkRedisUrl({})).not.toThrow();
    expect(() => checkRedisUrl({ UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io" })).not.toThrow();
    expect(() => checkRedisUrl({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079" })).not.toThrow();
  });

  it.each([
    "redis://127.0.0.1:6379",
    "not a url",
    "https://user:pass@eu1-x.upstash.io",
    "https://eu1-x.upstash.io/?token=x",
  ])("refuses %s, naming the variable", (url) => {
    expect(() => checkRedisUrl({ UPSTASH_REDIS_REST_URL: url })).toThrow(/UPSTASH_REDIS_REST_URL/);
  });
});
