/** Mirrors without Redis configured (this project has no UPSTASH_* variables): `400 not_configured`. */
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";

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

  it("leave state writes alone", async () => {
    const ns = unique("mc");
    expect((await call("PUT", `/v1/state/${ns}/k`, { value: 1 })).status).toBe(200);
  });
});
