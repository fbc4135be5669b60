/** Scoped tokens on the other ways in: WebSocket upgrades (`?token=`) and the service-binding RPC. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BreakerRpc } from "../../../workers/breaker/rpc.ts";
import { BusRpc } from "../../../workers/bus/rpc.ts";
import { DbRpc } from "../../../workers/db/rpc.ts";
import { LockRpc } from "../../../workers/lock/rpc.ts";
import { MirrorRpc } from "../../../workers/mirror/rpc.ts";
import { QueueRpc } from "../../../workers/queue/rpc.ts";
import { StateRpc } from "../../../workers/state/rpc.ts";
import { MIRROR_RPC_ACTIONS, RPC_ACTIONS } from "../../../workers/tokens/rpc-access.ts";
import { waitForName } from "../catalog/helpers.ts";
import { call, unique } from "../helpers.ts";
import { subscribe } from "../state/subscriber.ts";
import { mint, rateLimited, scoped } from "./helpers.ts";

async function upgrade(path: string) {
  const res = await exports.default.fetch(
    new Request(`http://localhost${path}`, { headers: { Upgrade: "websocket" } }),
  );
  res.webSocket?.accept();
  res.webSocket?.close(1000, "done");
  return res;
}

describe("a scoped token on a WebSocket upgrade", () => {
  it("subscribes with ?token= when it grants read on the namespace, and sees changes", async () => {
    const ns = unique("ws");
    const token = await scoped(`state:${ns}`, "read");
    const sub = await subscribe(ns, { token });
    expect((await call("PUT", `/v1/state/${ns}/k`, { value: 1 })).status).toBe(200);
    const [first] = await sub.received(1);
    expect(first).toMatchObject({ type: "change", key: "k", version: 1 });
    sub.close();
  });

  it("answers the upgrade 403 outside the scopes and 401 for a bad token, never 101", async () => {
    const ns = unique("ws");
    const writeOnly = await scoped(`state:${ns}`, "write");
    const otherNs = await scoped(`state:${ns}-other`, "read");
    for (const token of [writeOnly, otherNs]) {
      const res = await upgrade(`/v1/state/${ns}/subscribe?token=${encodeURIComponent(token)}`);
      expect(res.status).toBe(403);
      expect(res.webSocket).toBeNull();
    }
    const reader = await scoped(`state:${ns}`, "read");
    const bad = await upgrade(`/v1/state/${ns}/subscribe?token=${encodeURIComponent(`${reader}A`)}`);
    expect(bad.status).toBe(401);
    // ?token= only counts on upgrades: a plain GET with it has no token.
    expect(
      (await call("GET", `/v1/state/${ns}/k?token=${encodeURIComponent(reader)}`, undefined, { token: null }))
        .status,
    ).toBe(401);
  });
});

describe("a scoped token on the RPC entrypoint", () => {
  it("narrows each method to the token's scopes; no token stays admin", async () => {
    const name = unique("rpc");
    const token = await scoped(`locks:${name}`, "write");
    using locks = await exports.SwitchyardRpc.locks({ token });
    const grant = await locks.acquire(name, { owner: "a" });
    expect(grant).toMatchObject({ ok: true, value: { name, owner: "a" } });
    expect(await locks.info(name)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await locks.acquire(`${name}-x`, { owner: "a" })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    // Revoked while the caller keeps the target: its next call is refused.
    const revoked = await mint({ scopes: [{ resource: `locks:${name}`, actions: ["read"] }] });
    using kept = await exports.SwitchyardRpc.locks({ token: revoked.token });
    expect(await kept.info(name)).toMatchObject({ ok: true });
    expect((await call("DELETE", `/v1/tokens/${revoked.id}`)).status).toBe(200);
    expect(await kept.info(name)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    using admin = await exports.SwitchyardRpc.locks();
    expect(await admin.info(name)).toMatchObject({ ok: true });
  });

  it("answers unauthorized for a bad token and rate_limited past the token's limit", async () => {
    const name = unique("rpc");
    const token = await rateLimited(`locks:${name}`, 2, "read", "write");
    using bad = await exports.SwitchyardRpc.locks({ token: `${token}x` });
    expect(await bad.info(name)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    using locks = await exports.SwitchyardRpc.locks({ token });
    expect(await locks.acquire(name, { owner: "a" })).toMatchObject({ ok: true });
    expect(await locks.info(name)).toMatchObject({
      ok: true,
      value: { holders: [expect.objectContaining({ owner: "a" })] },
    });
    expect(await locks.info(name)).toMatchObject({
      ok: false,
      error: { code: "rate_limited", details: { retryAfterMs: expect.any(Number) } },
    });
    using db = await exports.SwitchyardRpc.db({ token });
    expect(await db.status()).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("answers invalid arguments as they are, spending nothing of the limit, as HTTP does", async () => {
    const name = unique("rpc");
    const token = await rateLimited(`locks:${name}`, 1, "write");
    using locks = await exports.SwitchyardRpc.locks({ token });
    for (let i = 0; i < 2; i++) {
      expect(await locks.acquire(name, { owner: "a", bogus: 1 })).toMatchObject({
        ok: false,
        error: { code: "invalid_request", details: { field: "bogus" } },
      });
    }
    expect(await locks.acquire(name, { owner: "a" })).toMatchObject({ ok: true });
    expect(await locks.acquire(name, { owner: "a" })).toMatchObject({
      ok: false,
      error: { code: "rate_limited" },
    });
    // Past the limit, a bad call still gets its own refusal.
    expect(await locks.acquire(name, { owner: "a", bogus: 1 })).toMatchObject({
      ok: false,
      error: { code: "invalid_request" },
    });
  });

  it("runs a rate-limited call on the arguments the guard validated, noting the name as any write", async () => {
    const name = unique("rpc");
    const token = await rateLimited(`queues:${name}`, 10, "write", "read");
    using queues = await exports.SwitchyardRpc.queues({ token });
    // Defaults come from the validation (priority, maxAttempts) and the answer is the object's.
    const enqueued = await queues.enqueue(name, { payload: { n: 1 } });
    expect(enqueued).toMatchObject({ ok: true, value: { ids: [expect.any(String)] } });
    const id = (enqueued as { value: { ids: string[] } }).value.ids[0] as string;
    expect(await queues.task(name, id)).toMatchObject({
      ok: true,
      value: { payload: { n: 1 }, priority: "normal", maxAttempts: 5 },
    });
    await waitForName("queues", name);
  });

  it("knows the action of every RPC method, so a new method cannot slip through unchecked", () => {
    const classes = {
      locks: LockRpc,
      breakers: BreakerRpc,
      topics: BusRpc,
      state: StateRpc,
      db: DbRpc,
      queues: QueueRpc,
    };
    for (const [capability, cls] of Object.entries(classes)) {
      const methods = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== "constructor");
      expect(Object.keys(RPC_ACTIONS[capability as keyof typeof classes]).sort(), capability).toEqual(
        methods.sort(),
      );
    }
    const mirrorMethods = Object.getOwnPropertyNames(MirrorRpc.prototype).filter((m) => m !== "constructor");
    expect(Object.keys(MIRROR_RPC_ACTIONS).sort()).toEqual(mirrorMethods.sort());
  });
});
