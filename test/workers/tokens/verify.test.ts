import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../../shared/resilience/clock.ts";
import { keyRing, signToken } from "../../../workers/tokens/codec.ts";
import { MAX_AGE_MS, REFRESH_AFTER_MS } from "../../../workers/tokens/revocations.ts";
import { useTokenClock, verifyScopedToken } from "../../../workers/tokens/verify.ts";
import { call, expectError, unique } from "../helpers.ts";
import { manualTokenClock, mint } from "./helpers.ts";

afterEach(() => useTokenClock(systemClock));

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

/** The same text with the character at `i` replaced by another one. */
function flip(text: string, i: number): string {
  const c = text[i] as string;
  const other = ALPHABET[(ALPHABET.indexOf(c) + 1) % ALPHABET.length] as string;
  return text.slice(0, i) + other + text.slice(i + 1);
}

describe("verifying scoped tokens", () => {
  it("accepts a token only exactly as minted: every character changed, removed or appended is refused", async () => {
    const { token } = await mint({ scopes: [{ resource: "locks:*", actions: ["read"] }] });
    expect(await verifyScopedToken(env, token)).toMatchObject({ kind: "scoped" });
    for (let i = 0; i < token.length; i++) {
      expect(await verifyScopedToken(env, flip(token, i)), `changed at ${i}`).toBeNull();
      expect(
        await verifyScopedToken(env, token.slice(0, i) + token.slice(i + 1)),
        `removed at ${i}`,
      ).toBeNull();
    }
    for (const extra of ["A", "=", ".", "_", " x"]) {
      expect(await verifyScopedToken(env, token + extra), `appended ${extra}`).toBeNull();
    }
    // The last character of the signature carries two unused bits: another spelling of the same bytes is refused too.
    const last = token.at(-1) as string;
    const sameBits = ALPHABET[(ALPHABET.indexOf(last) & ~3) + ((ALPHABET.indexOf(last) + 1) & 3)] as string;
    expect(await verifyScopedToken(env, token.slice(0, -1) + sameBits)).toBeNull();
    // Over HTTP: a flipped signature, payload and kid all answer 401.
    for (const i of [4, 12, token.length - 5]) {
      const res = await call("GET", "/v1/locks/x", undefined, { token: flip(token, i) });
      expectError(res, 401, "unauthorized");
    }
  }, 60_000);

  it("refuses a token signed by a key that is not configured, and one with a forged payload", async () => {
    const foreign = await keyRing("some-other-key");
    const forged = await signToken(foreign as NonNullable<typeof foreign>, {
      id: "tk_forged",
      scopes: [{ resource: "locks:*", actions: ["read", "write"] }],
      exp: Date.now() + 60_000,
    });
    expect(await verifyScopedToken(env, forged)).toBeNull();
    expect((await call("GET", "/v1/locks/x", undefined, { token: forged })).status).toBe(401);
  });

  it("keeps tokens of the previous key valid during a rotation, and new ones are signed by the new key", async () => {
    const old = env.TOKEN_SIGNING_KEYS as string;
    const { token } = await mint({ scopes: [{ resource: "locks:*", actions: ["read"] }] });
    const rotated = { ...env, TOKEN_SIGNING_KEYS: `a-brand-new-signing-key, ${old}` };
    expect(await verifyScopedToken(rotated, token)).toMatchObject({ kind: "scoped" });
    const ring = await keyRing(rotated.TOKEN_SIGNING_KEYS);
    const fresh = await signToken(ring as NonNullable<typeof ring>, {
      id: "tk_new",
      scopes: [{ resource: "locks:*", actions: ["read"] }],
      exp: Date.now() + 60_000,
    });
    expect(fresh.split(".")[1]).not.toBe(token.split(".")[1]);
    expect(await verifyScopedToken(rotated, fresh)).toMatchObject({ id: "tk_new" });
    // Until the new key is everywhere, the old configuration does not know it; once the old key is dropped, its tokens go.
    expect(await verifyScopedToken(env, fresh)).toBeNull();
    expect(
      await verifyScopedToken({ ...env, TOKEN_SIGNING_KEYS: "a-brand-new-signing-key" }, token),
    ).toBeNull();
    expect(await verifyScopedToken({ ...env, TOKEN_SIGNING_KEYS: "" }, token)).toBeNull();
  });

  it("expires tokens on the token clock, with no sleep", async () => {
    const clock = manualTokenClock();
    const name = unique("exp");
    const { token, expiresAt } = await mint({
      scopes: [{ resource: `locks:${name}`, actions: ["read"] }],
      ttlMs: 1000,
    });
    expect(expiresAt).toBe(clock.at + 1000);
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    clock.advance(999);
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    clock.advance(1);
    const res = await call("GET", `/v1/locks/${name}`, undefined, { token });
    expectError(res, 401, "unauthorized");
  });

  it("refuses a revoked token everywhere within 10 s: other isolates' caches, driven by their clock", async () => {
    const clock = manualTokenClock();
    const name = unique("rev");
    const { id, token } = await mint({ scopes: [{ resource: `locks:${name}`, actions: ["read"] }] });
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    // Revoke in the registry directly, as another isolate would: this isolate's cache does not know yet.
    const registry = env.TOKENS.getByName("registry");
    expect(await registry.revoke(id, clock.now())).toEqual({ ok: true, value: { revoked: true } });
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    clock.advance(REFRESH_AFTER_MS - 1);
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    clock.advance(MAX_AGE_MS - REFRESH_AFTER_MS + 1);
    const res = await call("GET", `/v1/locks/${name}`, undefined, { token });
    expect(res.status).toBe(401);
    // The isolate that revokes refuses at once.
    const other = await mint({ scopes: [{ resource: `locks:${name}`, actions: ["read"] }] });
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token: other.token })).status).toBe(200);
    expect((await call("DELETE", `/v1/tokens/${other.id}`)).status).toBe(200);
    expect((await call("GET", `/v1/locks/${name}`, undefined, { token: other.token })).status).toBe(401);
  });

  it("limits a token to its rate: 429 rate_limited with Retry-After past it", async () => {
    const name = unique("rl");
    const { token } = await mint({
      scopes: [{ resource: `locks:${name}`, actions: ["read"] }],
      rateLimit: { requests: 3, periodMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) {
      expect((await call("GET", `/v1/locks/${name}`, undefined, { token })).status).toBe(200);
    }
    const res = await call("GET", `/v1/locks/${name}`, undefined, { token });
    expectError(res, 429, "rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Out of scope still answers 403 first: the rate limit is checked after the scopes.
    expect((await call("GET", `/v1/locks/${name}-other`, undefined, { token })).status).toBe(403);
    // The admin token is never limited.
    expect((await call("GET", `/v1/locks/${name}`)).status).toBe(200);
  });
});

describe("the order of checks", () => {
  it("answers 401 before 400 before 403 before the body", async () => {
    const name = unique("ord");
    const { token } = await mint({ scopes: [{ resource: `locks:${name}`, actions: ["read"] }] });
    // A bad token with a bad name and a bad body: 401.
    expect((await call("POST", "/v1/locks/-bad/acquire", { bogus: 1 }, { token: `${token}x` })).status).toBe(
      401,
    );
    // A good token, a bad name: 400 naming the param, before the scopes.
    const badName = await call("POST", "/v1/locks/-bad/acquire", { bogus: 1 }, { token });
    expect(badName.status).toBe(400);
    expect(badName.error?.details?.field).toBe("name");
    // A good name outside the scopes (write on a read-only scope) with a bad body: 403.
    const outside = await call("POST", `/v1/locks/${name}/acquire`, { bogus: 1 }, { token });
    expectError(outside, 403, "forbidden");
    const notJson = await call("POST", `/v1/locks/${name}/acquire`, undefined, {
      token,
      raw: "not json",
      headers: { "content-type": "text/plain" },
    });
    expect(notJson.status).toBe(403);
    // Within the scopes, the body is checked: 400.
    const write = await mint({ scopes: [{ resource: `locks:${name}`, actions: ["write"] }] });
    const badBody = await call(
      "POST",
      `/v1/locks/${name}/acquire`,
      { owner: "a", bogus: 1 },
      {
        token: write.token,
      },
    );
    expect(badBody.status).toBe(400);
    expect(badBody.error?.details?.field).toBe("bogus");
  });

  it("answers a token over its rate limit 415 and 400 for its body first, and 429 only for a valid request", async () => {
    const name = unique("ord-rl");
    const { token } = await mint({
      scopes: [{ resource: `locks:${name}`, actions: ["write"] }],
      rateLimit: { requests: 1, periodMs: 60_000 },
    });
    const acquire = (body?: unknown, raw?: string) =>
      call("POST", `/v1/locks/${name}/acquire`, body, {
        token,
        ...(raw === undefined ? {} : { raw, headers: { "content-type": "text/plain" } }),
      });
    // Requests refused for their body spend nothing of the allowance.
    expectError(await acquire({ owner: "a", bogus: 1 }), 400, "invalid_request");
    expectError(await acquire(undefined, "owner=a"), 415, "unsupported_media_type");
    expect((await acquire({ owner: "a", ttlMs: 60_000 })).status).toBe(200);
    // Over the limit now: the body is still checked first, the operation is refused.
    expectError(await acquire({ owner: "a", bogus: 1 }), 400, "invalid_request");
    expectError(await acquire(undefined, "owner=a"), 415, "unsupported_media_type");
    expectError(await acquire({ owner: "a", ttlMs: 60_000 }), 429, "rate_limited");
  });

  it("answers a subscribe route without the upgrade 400 and spends nothing; the upgrade takes from the limit", async () => {
    const topic = unique("ord-rl");
    const { token } = await mint({
      scopes: [{ resource: `topics:${topic}`, actions: ["read"] }],
      rateLimit: { requests: 1, periodMs: 60_000 },
    });
    const upgrade = (headers: Record<string, string>) =>
      exports.default.fetch(
        new Request(`http://localhost/v1/topics/${topic}/subscribe`, {
          headers: { authorization: `Bearer ${token}`, ...headers },
        }),
      );
    for (let i = 0; i < 2; i++) expect((await upgrade({})).status).toBe(400);
    const live = await upgrade({ upgrade: "websocket" });
    expect(live.status).toBe(101);
    live.webSocket?.accept();
    live.webSocket?.close();
    expect((await upgrade({ upgrade: "websocket" })).status).toBe(429);
    expect((await upgrade({})).status).toBe(400);
  });
});
