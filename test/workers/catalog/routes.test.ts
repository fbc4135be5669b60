import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { forgetName } from "../../../workers/catalog/note.ts";
import { call, expectInvalidField, unique } from "../helpers.ts";
import { list, listAll, waitForName } from "./helpers.ts";

const HOOK = "http://127.0.0.1:9/hook";

// A name may take up to 10 s to appear (the contract); the first test also starts the runtime.
vi.setConfig({ testTimeout: 15_000 });

describe("names appear after each kind of write (HTTP)", () => {
  it.each([
    ["locks", "lock acquired", (n: string) => call("POST", `/v1/locks/${n}/acquire`, { owner: "w1" })],
    ["queues", "task enqueued", (n: string) => call("POST", `/v1/queues/${n}/tasks`, { payload: 1 })],
    ["state", "key put", (n: string) => call("PUT", `/v1/state/${n}/k`, { value: 1 })],
    ["state", "key incremented", (n: string) => call("POST", `/v1/state/${n}/k/increment`, {})],
    [
      "state",
      "txn",
      (n: string) => call("POST", `/v1/state/${n}/txn`, { success: [{ op: "put", key: "k", value: 1 }] }),
    ],
    ["topics", "event published", (n: string) => call("POST", `/v1/topics/${n}/events`, { type: "e" })],
    [
      "topics",
      "subscription made",
      (n: string) => call("POST", `/v1/topics/${n}/subscriptions`, { url: HOOK }),
    ],
    ["breakers", "breaker configured", (n: string) => call("PUT", `/v1/breakers/${n}`, {})],
    ["breakers", "breaker acquired", (n: string) => call("POST", `/v1/breakers/${n}/acquire`)],
    ["breakers", "call recorded", (n: string) => call("POST", `/v1/breakers/${n}/record`, { ok: true })],
    [
      "breakers",
      "calls recorded",
      (n: string) => call("POST", `/v1/breakers/${n}/record-batch`, { outcomes: [{ ok: false }] }),
    ],
  ] as const)("%s: %s", async (capability, _what, write) => {
    const name = unique("cat");
    expect((await list(capability, { prefix: name })).body).toEqual({ items: [], cursor: null });
    const before = Date.now();
    const res = await write(name);
    expect(res.status).toBeLessThan(300);
    const entry = await waitForName(capability, name);
    expect(entry?.createdAt).toBeGreaterThanOrEqual(before);
    expect(entry?.lastUsedAt).toBe(entry?.createdAt);
  });

  it("a refused write (an invalid body) does not register the name", async () => {
    const name = unique("cat");
    expect((await call("POST", `/v1/locks/${name}/acquire`, {})).status).toBe(400);
    const ok = unique("cat");
    await call("POST", `/v1/locks/${ok}/acquire`, { owner: "w" });
    await waitForName("locks", ok);
    expect((await list("locks", { prefix: name })).body.items).toEqual([]);
  });
});

describe("names appear after each kind of write (RPC)", () => {
  it("lock, queue, state, topic and breaker writes over the service binding", async () => {
    const name = unique("rpc");
    using locks = await exports.SwitchyardRpc.locks();
    using queues = await exports.SwitchyardRpc.queues();
    using state = await exports.SwitchyardRpc.state();
    using topics = await exports.SwitchyardRpc.topics();
    using breakers = await exports.SwitchyardRpc.breakers();
    expect(await locks.acquire(name, { owner: "w" })).toMatchObject({ ok: true });
    expect(await queues.enqueue(name, { payload: 1 })).toMatchObject({ ok: true });
    expect(await state.increment(name, "k", {})).toMatchObject({ ok: true });
    expect(await topics.publish(name, { type: "e" })).toMatchObject({ ok: true });
    expect(await breakers.recordBatch(name, { outcomes: [{ ok: true }] })).toMatchObject({ ok: true });
    for (const capability of ["locks", "queues", "state", "topics", "breakers"] as const) {
      await waitForName(capability, name);
    }
    // Each remaining write method on its own name.
    const more = {
      put: unique("rpc"),
      del: unique("rpc"),
      txn: unique("rpc"),
      sub: unique("rpc"),
      cfg: unique("rpc"),
      acq: unique("rpc"),
      rec: unique("rpc"),
    };
    expect(await state.put(more.put, "k", { value: 1 })).toMatchObject({ ok: true });
    // A delete needs a key: put it, take the name out of the catalog, then delete.
    expect(await state.put(more.del, "k", { value: 1 })).toMatchObject({ ok: true });
    await waitForName("state", more.del);
    await forgetName(env, "state", more.del);
    expect(await state.delete(more.del, "k")).toMatchObject({ ok: true });
    expect(await state.txn(more.txn, { success: [{ op: "put", key: "k", value: 1 }] })).toMatchObject({
      ok: true,
    });
    expect(await topics.createSubscription(more.sub, { url: HOOK })).toMatchObject({ ok: true });
    expect(await breakers.configure(more.cfg, {})).toMatchObject({ ok: true });
    expect(await breakers.acquire(more.acq)).toMatchObject({ ok: true });
    expect(await breakers.record(more.rec, { ok: true })).toMatchObject({ ok: true });
    for (const n of [more.put, more.del, more.txn]) await waitForName("state", n);
    await waitForName("topics", more.sub);
    for (const n of [more.cfg, more.acq, more.rec]) await waitForName("breakers", n);
  });

  it("a failed RPC write registers nothing", async () => {
    const name = unique("rpc");
    using locks = await exports.SwitchyardRpc.locks();
    expect((await locks.acquire(name, {})).ok).toBe(false);
    const ok = unique("rpc");
    expect(await locks.acquire(ok, { owner: "w" })).toMatchObject({ ok: true });
    await waitForName("locks", ok);
    expect((await list("locks", { prefix: name })).body.items).toEqual([]);
  });
});

describe("GET /v1/<capability>", () => {
  it("lists in ascending byte order, not natural or locale order", async () => {
    const p = `${unique("ord")}:`;
    const names = ["a-b", "a-2", "a-B", "a-10", "a-1", "a.", "a:", "A", "0"].map((s) => p + s);
    for (const n of names) await call("POST", `/v1/locks/${n}/acquire`, { owner: "w" });
    for (const n of names) await waitForName("locks", n);
    const listed = (await list("locks", { prefix: p })).body.items.map((i: { name: string }) => i.name);
    expect(listed.map((n: string) => n.slice(p.length))).toEqual([
      "0",
      "A",
      "a-1",
      "a-10",
      "a-2",
      "a-B",
      "a-b",
      "a.",
      "a:",
    ]);
  });

  it("filters by prefix, case-sensitively", async () => {
    const p = unique("pre");
    for (const s of ["x-1", "x-2", "X-3", "y-1"]) await call("PUT", `/v1/state/${p}${s}/k`, { value: 1 });
    await waitForName("state", `${p}y-1`);
    await waitForName("state", `${p}X-3`);
    expect(await listAll("state", `${p}x`)).toEqual([`${p}x-1`, `${p}x-2`]);
    expect(await listAll("state", `${p}X`)).toEqual([`${p}X-3`]);
    expect(await listAll("state", `${p}x-1`)).toEqual([`${p}x-1`]);
    expect(await listAll("state", `${p}z`)).toEqual([]);
  });

  it("pages with the cursor to the end, every name once, the last page's cursor null", async () => {
    const p = unique("page");
    const names = Array.from({ length: 23 }, (_, i) => `${p}-${String(i).padStart(2, "0")}`);
    await Promise.all(names.map((n) => call("POST", `/v1/queues/${n}/tasks`, { payload: 1 })));
    for (const n of names) await waitForName("queues", n);
    const pages: number[] = [];
    let cursor: string | null = null;
    const seen: string[] = [];
    do {
      const res = await list("queues", { prefix: p, limit: 5, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      pages.push(res.body.items.length);
      seen.push(...res.body.items.map((i: { name: string }) => i.name));
      cursor = res.body.cursor;
    } while (cursor !== null);
    expect(pages).toEqual([5, 5, 5, 5, 3]);
    expect(seen).toEqual(names);
    // A page that ends exactly at the last name says so with a null cursor.
    const exact = await list("queues", { prefix: p, limit: 23 });
    expect(exact.body.items).toHaveLength(23);
    expect(exact.body.cursor).toBeNull();
  });

  it("defaults limit to 100 and accepts 1 and 1000", async () => {
    for (const limit of [1, 1000]) expect((await list("topics", { limit })).status).toBe(200);
    const all = await list("topics", { prefix: "" });
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBeLessThanOrEqual(100);
  });

  it.each([
    ["limit", { limit: 0 }],
    ["limit", { limit: 1001 }],
    ["limit", { limit: "ten" }],
    ["limit", { limit: 2.5 }],
    ["prefix", { prefix: "a b" }],
    ["prefix", { prefix: "a/b" }],
    ["prefix", { prefix: "x".repeat(129) }],
    ["cursor", { cursor: "not-a-cursor" }],
  ])("answers 400 naming %s for %j", async (field, query) => {
    const res = await list("breakers", query);
    expectInvalidField(res, field);
  });

  it("needs a token, and does not clash with the per-name routes", async () => {
    expect((await call("GET", "/v1/queues", undefined, { token: null })).status).toBe(401);
    expect((await call("POST", "/v1/queues")).status).toBe(405);
    const name = unique("clash");
    await call("POST", `/v1/locks/${name}/acquire`, { owner: "w" });
    expect((await call("GET", `/v1/locks/${name}`)).body.name).toBe(name);
  });

  it("is in the OpenAPI document with its operationId and read access", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const ids = { locks: "listLocks", queues: "listQueues", state: "listStateNamespaces" } as const;
    for (const [capability, operationId] of Object.entries(ids)) {
      const op = doc.paths[`/v1/${capability}`]?.get;
      expect(op?.operationId).toBe(operationId);
      expect(op?.["x-switchyard-access"]).toBe(`${capability}:read`);
    }
    expect(doc.paths["/v1/topics"]?.get?.operationId).toBe("listTopics");
    expect(doc.paths["/v1/breakers"]?.get?.operationId).toBe("listBreakers");
    const params = Object.fromEntries(
      (doc.paths["/v1/queues"]?.get?.parameters ?? []).map((p) => [p.name, p]),
    );
    expect(params.limit).toMatchObject({ in: "query", required: false });
    expect(params.limit?.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 1000, default: 100 });
    expect(params.prefix).toMatchObject({ in: "query", required: false, schema: { default: "" } });
    expect(params.cursor).toMatchObject({ in: "query", required: false });
  });
});
