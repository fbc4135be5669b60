import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../shared/resilience/clock.ts";
import { useTokenClock } from "../../../workers/tokens/verify.ts";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { manualTokenClock, mint, scoped } from "./helpers.ts";

afterEach(() => useTokenClock(systemClock));

describe("POST /v1/tokens", () => {
  it("mints a token that works within its scopes and is refused outside them", async () => {
    const name = unique("tok");
    const minted = await mint({
      scopes: [{ resource: `locks:${name}`, actions: ["write", "read"] }],
      label: "w",
    });
    expect(minted).toEqual({
      id: expect.any(String),
      token: expect.stringMatching(/^sy1\./),
      expiresAt: expect.any(Number),
    });
    const ok = await call("POST", `/v1/locks/${name}/acquire`, { owner: "a" }, { token: minted.token });
    expect(ok.status).toBe(200);
    const other = await call("POST", `/v1/locks/${name}-x/acquire`, { owner: "a" }, { token: minted.token });
    expectError(other, 403, "forbidden");
  });

  it("answers 201 with the default ttl of an hour", async () => {
    const before = Date.now();
    const minted = await mint({ scopes: [{ resource: "db:*", actions: ["read"] }] });
    expect(minted.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(minted.expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it.each([
    [{}, "scopes"],
    [{ scopes: [] }, "scopes"],
    [{ scopes: [{ resource: "locks:a", actions: ["read"], bogus: 1 }] }, "scopes.0.bogus"],
    [{ scopes: [{ resource: "locks:a", actions: ["read"] }], ttl: 5 }, "ttl"],
    [{ scopes: [{ resource: "locks", actions: ["read"] }] }, "scopes.0.resource"],
    [{ scopes: [{ resource: "widgets:a", actions: ["read"] }] }, "scopes.0.resource"],
    [{ scopes: [{ resource: "locks:-bad", actions: ["read"] }] }, "scopes.0.resource"],
    [{ scopes: [{ resource: "locks:a*b", actions: ["read"] }] }, "scopes.0.resource"],
    [{ scopes: [{ resource: "db:x", actions: ["read"] }] }, "scopes.0.resource"],
    [{ scopes: [{ resource: "locks:a", actions: [] }] }, "scopes.0.actions"],
    [{ scopes: [{ resource: "locks:a", actions: ["read", "consume"] }] }, "scopes.0.actions.1"],
    [{ scopes: [{ resource: "locks:a", actions: ["read", "read"] }] }, "scopes.0.actions.1"],
    [{ scopes: [{ resource: "locks:a", actions: ["delete"] }] }, "scopes.0.actions.0"],
    [{ scopes: [{ resource: "db:*", actions: ["write"] }] }, "scopes.0.actions.0"],
    [{ scopes: [{ resource: "locks:a", actions: ["read"] }], ttlMs: 999 }, "ttlMs"],
    [{ scopes: [{ resource: "locks:a", actions: ["read"] }], ttlMs: 2_592_000_001 }, "ttlMs"],
    [{ scopes: [{ resource: "locks:a", actions: ["read"] }], label: "x".repeat(129) }, "label"],
    [
      { scopes: [{ resource: "locks:a", actions: ["read"] }], rateLimit: { requests: 0, periodMs: 1000 } },
      "rateLimit.requests",
    ],
    [
      { scopes: [{ resource: "locks:a", actions: ["read"] }], rateLimit: { requests: 1, periodMs: 999 } },
      "rateLimit.periodMs",
    ],
    [
      {
        scopes: [{ resource: "locks:a", actions: ["read"] }],
        rateLimit: { requests: 1, periodMs: 1000, burst: 2 },
      },
      "rateLimit.burst",
    ],
  ])("refuses %j with 400 naming %s", async (body, field) => {
    const res = await call("POST", "/v1/tokens", body);
    expectInvalidField(res, field);
  });

  it("accepts the edges of every range and patterns with colons", async () => {
    const scopes = Array.from({ length: 50 }, (_, i) => ({
      resource: `queues:tenant-${i}:*`,
      actions: ["write", "read", "consume", "admin"],
    }));
    const res = await call("POST", "/v1/tokens", {
      scopes,
      ttlMs: 2_592_000_000,
      label: "x".repeat(128),
      rateLimit: { requests: 1_000_000, periodMs: 86_400_000 },
    });
    expect(res.status, res.text).toBe(201);
    const tooMany = await call("POST", "/v1/tokens", { scopes: [...scopes, scopes[0]] });
    expect(tooMany.error?.details?.field).toBe("scopes");
  });

  it("lets only an admin mint: a scoped token gets 403 whatever its body", async () => {
    const token = await scoped("locks:*", "read", "write");
    const res = await call("POST", "/v1/tokens", { bogus: true }, { token });
    expectError(res, 403, "forbidden");
  });
});

describe("GET and DELETE /v1/tokens", () => {
  it("lists live tokens without their text, pages, and drops revoked and expired ones", async () => {
    const clock = manualTokenClock();
    const label = unique("list");
    const a = await mint({ scopes: [{ resource: "locks:a", actions: ["read"] }], label, ttlMs: 1000 });
    const b = await mint({
      scopes: [{ resource: "state:s*", actions: ["read"] }],
      rateLimit: { requests: 5, periodMs: 1000 },
    });
    const seen = new Map<string, Record<string, unknown>>();
    let cursor: string | null = null;
    do {
      const after: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res = await call("GET", `/v1/tokens?limit=1${after}`);
      expect(res.status).toBe(200);
      expect(res.body.tokens.length).toBeLessThanOrEqual(1);
      for (const t of res.body.tokens) seen.set(t.id, t);
      cursor = res.body.cursor;
    } while (cursor !== null);
    expect(seen.get(a.id)).toEqual({
      id: a.id,
      label,
      scopes: [{ resource: "locks:a", actions: ["read"] }],
      expiresAt: a.expiresAt,
    });
    expect(seen.get(b.id)).toEqual({
      id: b.id,
      label: null,
      scopes: [{ resource: "state:s*", actions: ["read"] }],
      expiresAt: b.expiresAt,
      rateLimit: { requests: 5, periodMs: 1000 },
    });
    expect(JSON.stringify([...seen.values()])).not.toContain("sy1.");

    expect((await call("DELETE", `/v1/tokens/${b.id}`)).body).toEqual({ revoked: true });
    clock.advance(1000);
    const after = await call("GET", "/v1/tokens?limit=1000");
    const ids = after.body.tokens.map((t: { id: string }) => t.id);
    expect(ids).not.toContain(a.id);
    expect(ids).not.toContain(b.id);
  });

  it("revokes again for revoked or expired ids, 404 for ids never minted", async () => {
    const clock = manualTokenClock();
    const t = await mint({ scopes: [{ resource: "locks:a", actions: ["read"] }], ttlMs: 1000 });
    expect((await call("DELETE", `/v1/tokens/${t.id}`)).status).toBe(200);
    expect((await call("DELETE", `/v1/tokens/${t.id}`)).body).toEqual({ revoked: true });
    const u = await mint({ scopes: [{ resource: "locks:a", actions: ["read"] }], ttlMs: 1000 });
    clock.advance(5000);
    expect((await call("DELETE", `/v1/tokens/${u.id}`)).status).toBe(200);
    const missing = await call("DELETE", "/v1/tokens/tk_never");
    expectError(missing, 404, "not_found");
  });

  it("refuses limits out of range and scoped tokens", async () => {
    expect((await call("GET", "/v1/tokens?limit=0")).error?.details?.field).toBe("limit");
    expect((await call("GET", "/v1/tokens?limit=1001")).status).toBe(400);
    const token = await scoped("locks:*", "read");
    expect((await call("GET", "/v1/tokens", undefined, { token })).status).toBe(403);
    expect((await call("DELETE", "/v1/tokens/tk_never", undefined, { token })).status).toBe(403);
  });
});
