import { describe, expect, it } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";

const acquire = (name: string, body: unknown) => call("POST", `/v1/locks/${name}/acquire`, body);
const release = (name: string, body: unknown) => call("POST", `/v1/locks/${name}/release`, body);
const extend = (name: string, body: unknown) => call("POST", `/v1/locks/${name}/extend`, body);

describe("POST /v1/locks/{name}/acquire", () => {
  it("grants with a fencing token and the default 30 s TTL", async () => {
    const name = unique("lock");
    const before = Date.now();
    const res = await acquire(name, { owner: "a" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name, owner: "a", token: 1, expiresAt: expect.any(Number) });
    expect(res.body.expiresAt).toBeGreaterThanOrEqual(before + 30_000);
  });

  it("refuses another owner with 409 lock_held and retryAfterMs", async () => {
    const name = unique("lock");
    await acquire(name, { owner: "a", ttlMs: 10_000 });
    const res = await acquire(name, { owner: "b" });
    expectError(res, 409, "lock_held");
    expect(res.error?.details?.retryAfterMs).toBeGreaterThan(0);
    expect(res.error?.details?.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it("gives the holder its grant back with the same token and a renewed expiry", async () => {
    const name = unique("lock");
    const first = await acquire(name, { owner: "a", ttlMs: 1000 });
    const again = await acquire(name, { owner: "a", ttlMs: 60_000 });
    expect(again.status).toBe(200);
    expect(again.body.token).toBe(first.body.token);
    expect(again.body.expiresAt).toBeGreaterThan(first.body.expiresAt);
  });

  it("accepts an empty body only where every field has a default", async () => {
    const res = await call("POST", `/v1/locks/${unique("lock")}/acquire`);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("owner");
  });

  it.each([
    ["owner", { owner: "" }],
    ["owner", { owner: "x".repeat(257) }],
    ["owner", { owner: 7 }],
    ["ttlMs", { owner: "a", ttlMs: 99 }],
    ["ttlMs", { owner: "a", ttlMs: 3_600_001 }],
    ["ttlMs", { owner: "a", ttlMs: 1.5 }],
    ["waitMs", { owner: "a", waitMs: -1 }],
    ["waitMs", { owner: "a", waitMs: 60_001 }],
    ["permits", { owner: "a", permits: 0 }],
    ["permits", { owner: "a", permits: 1001 }],
    ["permits", { owner: "a", permits: "2" }],
  ])("answers 400 naming %s for %j", async (field, body) => {
    const res = await acquire(unique("lock"), body);
    expectInvalidField(res, field);
  });

  it.each(["-lead", "a b", "x".repeat(129), "semi;colon", "é"])(
    "answers 400 for the name %j",
    async (name) => {
      const res = await acquire(encodeURIComponent(name), { owner: "a" });
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe("name");
    },
  );

  it("accepts every character the name pattern allows", async () => {
    const res = await acquire("A.b_c:d-9", { owner: "a" });
    expect(res.status).toBe(200);
  });
});

describe("POST /v1/locks/{name}/release", () => {
  it("releases the live grant once", async () => {
    const name = unique("lock");
    const { body: grant } = await acquire(name, { owner: "a" });
    const res = await release(name, { owner: "a", token: grant.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ released: true });
    const twice = await release(name, { owner: "a", token: grant.token });
    expectError(twice, 409, "not_holder");
  });

  it("refuses a wrong token or owner with 409 not_holder", async () => {
    const name = unique("lock");
    const { body: grant } = await acquire(name, { owner: "a" });
    expect((await release(name, { owner: "a", token: grant.token + 1 })).error?.code).toBe("not_holder");
    expect((await release(name, { owner: "b", token: grant.token })).error?.code).toBe("not_holder");
  });

  it.each([
    ["owner", { token: 1 }],
    ["token", { owner: "a" }],
    ["token", { owner: "a", token: 0 }],
    ["token", { owner: "a", token: "1" }],
  ])("answers 400 naming %s for %j", async (field, body) => {
    const res = await release(unique("lock"), body);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });
});

describe("POST /v1/locks/{name}/extend", () => {
  it("moves the expiry of the live grant", async () => {
    const name = unique("lock");
    const { body: grant } = await acquire(name, { owner: "a", ttlMs: 1000 });
    const res = await extend(name, { owner: "a", token: grant.token, ttlMs: 120_000 });
    expect(res.status).toBe(200);
    expect(res.body.expiresAt).toBeGreaterThan(grant.expiresAt);
    const info = await call("GET", `/v1/locks/${name}`);
    expect(info.body.holders[0]?.expiresAt).toBe(res.body.expiresAt);
  });

  it("refuses a grant that is not live with 409 not_holder", async () => {
    const name = unique("lock");
    const res = await extend(name, { owner: "a", token: 1, ttlMs: 1000 });
    expectError(res, 409, "not_holder");
  });

  it("requires ttlMs in range", async () => {
    const res = await extend(unique("lock"), { owner: "a", token: 1, ttlMs: 50 });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("ttlMs");
  });
});

describe("GET /v1/locks/{name}", () => {
  it("describes a lock nobody has used", async () => {
    const name = unique("lock");
    const res = await call("GET", `/v1/locks/${name}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name, permits: 1, holders: [], waiters: 0 });
  });

  it("lists holders with their tokens", async () => {
    const name = unique("lock");
    const a = await acquire(name, { owner: "a", permits: 2 });
    const b = await acquire(name, { owner: "b", permits: 2 });
    const res = await call("GET", `/v1/locks/${name}`);
    expect(res.body).toEqual({
      name,
      permits: 2,
      holders: [
        { owner: "a", token: a.body.token, expiresAt: a.body.expiresAt },
        { owner: "b", token: b.body.token, expiresAt: b.body.expiresAt },
      ],
      waiters: 0,
    });
  });
});
