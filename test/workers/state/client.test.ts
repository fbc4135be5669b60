import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HttpTransport } from "../../../shared/client/http.ts";
import {
  fetchConnector,
  httpState,
  rpcState,
  type StateApi,
  StateClient,
} from "../../../shared/client/state.ts";
import type { StateMessage } from "../../../shared/schemas/state.ts";
import { TOKEN, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";

const fetchWorker = (r: Request) => exports.default.fetch(r);
const http = new HttpTransport({ baseUrl: "http://localhost", token: TOKEN, fetch: fetchWorker });
const connector = fetchConnector({ baseUrl: "http://localhost", token: TOKEN, fetch: fetchWorker });

const transports: Array<[string, StateApi]> = [
  ["HTTP", httpState(http, connector)],
  ["the service binding", rpcState(exports.SwitchyardRpc)],
];

/** Polls `check` until it holds (a deadline, no fixed sleep). */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await scheduler.wait(5);
  }
}

describe.each(transports)("StateClient over %s", (_label, api) => {
  it("gets, puts, compares-and-sets, increments, deletes and lists", async () => {
    const s = new StateClient(api, unique("cl"));
    expect(await s.get("a/1")).toBeUndefined();
    const v1 = await s.put("a/1", { n: 1 }, { ttlMs: 60_000 });
    expect(await s.get("a/1")).toMatchObject({
      key: "a/1",
      value: { n: 1 },
      version: v1,
      expiresAt: expect.any(Number),
    });
    expect(await s.cas("a/1", v1 + 5, "stale")).toEqual({ ok: false, currentVersion: v1 });
    const won = await s.cas("a/1", v1, "fresh");
    expect(won).toEqual({ ok: true, version: v1 + 1 });
    expect(await s.cas("a/new", 0, "created")).toMatchObject({ ok: true });
    expect(await s.increment("n", 5)).toBe(5);
    expect(await s.increment("n")).toBe(6);
    await expect(s.increment("a/1")).rejects.toMatchObject({ code: "not_a_number" });
    await expect(s.delete("n", 1)).rejects.toMatchObject({ code: "version_mismatch" });
    expect(await s.delete("n")).toBe(true);
    expect(await s.delete("n")).toBe(false);
    const keys: string[] = [];
    for await (const item of s.keys("a/", 1)) keys.push(item.key);
    expect(keys).toEqual(["a/1", "a/new"]);
    const txn = await s.txn({
      compare: [{ key: "a/1", value: "fresh" }],
      success: [{ op: "delete", key: "a/1" }],
    });
    expect(txn.succeeded).toBe(true);
    expect(await s.version()).toBe(txn.version);
  });

  it("reads several keys at one version", async () => {
    const s = new StateClient(api, unique("cl"));
    await s.put("a", 1);
    await s.put("b", { two: 2 });
    expect(await s.read(["b", "none", "a"])).toEqual({
      version: 2,
      keys: [
        { key: "b", value: { two: 2 }, version: 2, updatedAt: expect.any(Number) },
        { key: "none", version: 0 },
        { key: "a", value: 1, version: 1, updatedAt: expect.any(Number) },
      ],
    });
    expect(await s.version()).toBe(2);
    await expect(s.read([""])).rejects.toMatchObject({
      code: "invalid_request",
      details: { field: "keys.0" },
    });
  });

  it("refuses bad input with the contract's errors", async () => {
    const s = new StateClient(api, unique("cl"));
    await expect(s.put("", 1)).rejects.toMatchObject({ code: "invalid_request" });
    await expect(s.put("k", "x".repeat(256 * 1024 + 1))).rejects.toMatchObject({ code: "payload_too_large" });
    await expect(new StateClient(api, "bad name").get("k")).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("watches a prefix: every change in order, then nothing after close", async () => {
    const s = new StateClient(api, unique("cl"));
    const seen: StateMessage[] = [];
    const watcher = await s.watch("w/", (m) => seen.push(m));
    await s.put("w/a", 1);
    await s.put("other", 2);
    await s.increment("w/b", 3);
    await s.delete("w/a");
    await eventually(() => seen.length === 3, "three changes");
    expect(seen).toEqual([
      { type: "change", op: "set", key: "w/a", value: 1, version: 1 },
      { type: "change", op: "set", key: "w/b", value: 3, version: 3 },
      { type: "change", op: "delete", key: "w/a", version: 4 },
    ]);
    expect(watcher.version).toBe(4);
    watcher.close();
    await s.put("w/c", 5);
    const marker: StateMessage[] = [];
    const second = await s.watch("w/", (m) => marker.push(m));
    await s.put("w/d", 6);
    await eventually(() => marker.length === 1, "the marker");
    expect(seen).toHaveLength(3);
    second.close();
  });

  it("replays past one step from fromVersion, the relay pacing it", async () => {
    const s = new StateClient(api, unique("cl"));
    // 40 values of 250 KiB: a 10 MB replay, more than one step of the object's.
    const value = "v".repeat(250 * 1024);
    for (let i = 0; i < 40; i++) await s.put(`k${i % 5}`, value);
    const seen: number[] = [];
    const watcher = await s.watch("", (m) => seen.push(m.version), { fromVersion: 0 });
    await eventually(() => seen.length === 40, "the whole replay");
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    watcher.close();
  });

  it("resumes after the connection drops, without gaps or repeats", async () => {
    const ns = unique("cl");
    const s = new StateClient(api, ns);
    const seen: number[] = [];
    const states: boolean[] = [];
    const watcher = await s.watch("", (m) => seen.push(m.version), {
      onConnection: (up) => states.push(up),
      backoff: { kind: "constant", initialDelayMs: 20, maxDelayMs: 20, jitter: "none" },
    });
    await s.put("k", 1);
    await eventually(() => seen.length === 1, "the first change");
    // Drop every subscriber socket from the object's side.
    await runInDurableObject(env.STATE.getByName(ns), (_, state) => {
      for (const ws of state.getWebSockets()) ws.close(1011, "dropped by the test");
    });
    await eventually(() => !watcher.connected, "the drop");
    await s.put("k", 2);
    await s.put("k", 3);
    await eventually(() => seen.length === 3, "the missed changes");
    await s.put("k", 4);
    await eventually(() => seen.length === 4, "a live change after resuming");
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(states).toEqual([true, false, true]);
    watcher.close();
  });

  it("serves cached reads that never go back past a change the subscription has seen", async () => {
    const ns = unique("cl");
    const s = new StateClient(api, ns);
    let seenVersion = 0;
    const cache = await s.cache("c/", {
      onChange: (m) => {
        seenVersion = m.version;
      },
    });
    expect(await cache.get("c/x")).toEqual({ key: "c/x", version: 0 });
    await s.put("c/x", 0);
    let last = 0;
    const writer = (async () => {
      for (let i = 1; i <= 40; i++) await s.put("c/x", i);
    })();
    let done = false;
    void writer.then(() => {
      done = true;
    });
    while (!done) {
      const floor = seenVersion;
      const read = await cache.get("c/x");
      expect(read.version).toBeGreaterThanOrEqual(floor);
      expect(read.version).toBeGreaterThanOrEqual(last);
      last = read.version;
      // Cached reads resolve without I/O: yield so the writer's requests progress.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await eventually(() => seenVersion === 41, "the last change");
    expect(await cache.get("c/x")).toEqual({ key: "c/x", value: 40, version: 41 });
    expect(cache.size).toBe(1);
    // Keys outside the prefix read through, uncached.
    await s.put("elsewhere", "x");
    expect((await cache.get("elsewhere")).value).toBe("x");
    expect(cache.size).toBe(1);
    cache.close();
  });
});

describe("a read-only token", () => {
  it.each([
    ["HTTP", false],
    ["the service binding", true],
  ])("watches from now and keeps a cache over %s", async (_label, overRpc) => {
    const ns = unique("ro");
    const writer = new StateClient(rpcState(exports.SwitchyardRpc), ns);
    await writer.put("k", "before");
    const token = await scoped(`state:${ns}`, "read");
    const options = { baseUrl: "http://localhost", token, fetch: fetchWorker };
    const api = overRpc
      ? rpcState({ state: () => exports.SwitchyardRpc.state({ token }) })
      : httpState(new HttpTransport(options), fetchConnector(options));
    const reader = new StateClient(api, ns);
    await expect(reader.put("k", "no")).rejects.toMatchObject({ code: "forbidden" });
    const seen: StateMessage[] = [];
    const watcher = await reader.watch("", (m) => seen.push(m));
    const cache = await reader.cache();
    expect(await cache.get("k")).toMatchObject({ value: "before", version: 1 });
    await writer.put("k", "after");
    await eventually(() => seen.length === 1, "the change");
    expect(seen).toEqual([{ type: "change", op: "set", key: "k", value: "after", version: 2 }]);
    await eventually(async () => (await cache.get("k")).version === 2, "the cache's update");
    expect(await cache.get("k")).toMatchObject({ value: "after" });
    watcher.close();
    cache.close();
  });
});
