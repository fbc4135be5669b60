/**
 * Issue 22's auth rows against the real Worker: a query-string token only on the subscribe and
 * consume upgrades, foreign origins refused before the token, and no dev token unless turned on.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../../shared/env.ts";
import { app } from "../../../workers/app.ts";
import { authenticate, DEV_TOKEN } from "../../../workers/http/auth.ts";
import { LockRpc } from "../../../workers/lock/rpc.ts";
import { guardRpc } from "../../../workers/tokens/rpc-access.ts";
import { call, TOKEN, unique } from "../helpers.ts";

const upgrade = { Upgrade: "websocket" };

async function send(url: string, headers: Record<string, string> = {}) {
  const res = await exports.default.fetch(new Request(url, { headers }));
  res.webSocket?.accept();
  res.webSocket?.close(1000, "done");
  const body = res.status === 101 ? undefined : ((await res.json()) as { error?: { code: string } });
  return { status: res.status, body };
}

/** The real app under an environment with some variables changed (bindings untouched). */
async function withEnv(vars: Partial<Env>, request: Request) {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

afterEach(() => vi.restoreAllMocks());

describe("?token=", () => {
  it("is ignored on a state read and on queue stats, even with an Upgrade header: 401", async () => {
    const ns = unique("qt");
    const q = `token=${TOKEN}`;
    const read = await send(`http://localhost/v1/state/${ns}/k?${q}`, upgrade);
    expect(read.status).toBe(401);
    expect(read.body?.error?.code).toBe("unauthorized");
    expect((await send(`http://localhost/v1/queues/${ns}/stats?${q}`, upgrade)).status).toBe(401);
    expect((await send(`http://localhost/v1/queues/${ns}/stats?${q}`)).status).toBe(401);
  });

  it("works on the state subscribe upgrade", async () => {
    const res = await send(`http://localhost/v1/state/${unique("qt")}/subscribe?token=${TOKEN}`, upgrade);
    expect(res.status).toBe(101);
  });
});

describe("Origin", () => {
  it("refuses a WebSocket upgrade from a foreign page with 403, before the token is looked at", async () => {
    const url = `http://localhost/v1/state/${unique("origin")}/subscribe?token=${TOKEN}`;
    const foreign = await send(url, { ...upgrade, Origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(foreign.body?.error?.code).toBe("forbidden");
    const noToken = await send(url.replace(/\?token=.*/, ""), { ...upgrade, Origin: "https://evil.example" });
    expect(noToken.status).toBe(403);
    expect((await send(url, { ...upgrade, Origin: "http://localhost" })).status).toBe(101);
  });

  it("lets a listed origin in with CORS headers, preflight included", async () => {
    const vars = { ALLOWED_ORIGINS: "https://app.example, https://other.example" };
    const url = `http://localhost/v1/state/${unique("origin")}/k`;
    const preflight = await withEnv(
      vars,
      new Request(url, {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "PUT" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const read = await withEnv(
      vars,
      new Request(url, { headers: { Origin: "https://app.example", authorization: `Bearer ${TOKEN}` } }),
    );
    expect(read.status).toBe(404);
    expect(read.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const foreign = await withEnv(
      vars,
      new Request(url, { headers: { Origin: "https://evil.example", authorization: `Bearer ${TOKEN}` } }),
    );
    expect(foreign.status).toBe(403);
  });
});

describe("fail closed", () => {
  it("refuses the dev token with no API_TOKENS and no ALLOW_DEV_TOKEN, whatever the Host says", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const closed = { API_TOKENS: undefined, ALLOW_DEV_TOKEN: undefined };
    for (const host of ["localhost", "127.0.0.1:8787"]) {
      const res = await withEnv(
        closed,
        new Request(`http://${host}/v1/locks/x`, {
          headers: { authorization: `Bearer ${DEV_TOKEN}`, Host: host },
        }),
      );
      expect(res.status).toBe(401);
    }
    const empty = await withEnv(
      { API_TOKENS: " , ", ALLOW_DEV_TOKEN: "false" },
      new Request("http://localhost/v1/locks/x", { headers: { authorization: `Bearer ${DEV_TOKEN}` } }),
    );
    expect(empty.status).toBe(401);
    await expect(authenticate({ ...env, ...closed } as Env, DEV_TOKEN)).rejects.toMatchObject({
      code: "unauthorized",
    });
    // One line per isolate, not one per request.
    expect(warn.mock.calls.filter((c) => String(c[0]).includes("API_TOKENS")).length).toBe(1);
  });

  it("refuses a signed scoped token too with no API_TOKENS and no ALLOW_DEV_TOKEN (every /v1 request), not over a binding", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const minted = await call("POST", "/v1/tokens", { scopes: [{ resource: "locks:*", actions: ["read"] }] });
    const scoped = (minted.body as { token: string }).token;
    const read = (vars: Partial<Env>) =>
      withEnv(
        vars,
        new Request(`http://localhost/v1/locks/${unique("l")}`, {
          headers: { authorization: `Bearer ${scoped}` },
        }),
      );
    expect((await read({})).status).toBe(200);
    expect((await read({ API_TOKENS: undefined, ALLOW_DEV_TOKEN: undefined })).status).toBe(401);
    expect((await read({ API_TOKENS: "a-real-token", ALLOW_DEV_TOKEN: undefined })).status).toBe(200);
    // Over a service binding the binding is the trust: a caller narrowing itself with the token keeps it.
    const closed = { ...env, API_TOKENS: undefined, ALLOW_DEV_TOKEN: undefined } as Env;
    const locks = await guardRpc(closed, "locks", new LockRpc(closed), scoped);
    expect(await locks.info(unique("l"))).toMatchObject({ ok: true });
  });

  it("accepts the dev token where the test configuration turns it on", async () => {
    expect(env.ALLOW_DEV_TOKEN).toBe("true");
    expect((await authenticate(env, DEV_TOKEN)).kind).toBe("admin");
  });
});
