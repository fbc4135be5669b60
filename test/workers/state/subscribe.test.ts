import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, TOKEN, unique } from "../helpers.ts";
import { subscribe } from "./subscriber.ts";

const keyPath = (ns: string, key: string, suffix = "") =>
  `/v1/state/${ns}/${encodeURIComponent(key)}${suffix}`;
const put = (ns: string, key: string, body: unknown) => call("PUT", keyPath(ns, key), body);

describe("subscriptions", () => {
  it("two real WebSocket clients see the same changes, in version order with no gaps", async () => {
    const ns = unique("sub");
    const [a, b] = await Promise.all([subscribe(ns), subscribe(ns)]);
    // Concurrent writers of every kind.
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => put(ns, `k${i % 3}`, { value: i })),
      ...Array.from({ length: 10 }, () => call("POST", keyPath(ns, "n", "/increment"), {})),
      call("POST", `/v1/state/${ns}/txn`, {
        success: [
          { op: "put", key: "t1", value: "x" },
          { op: "put", key: "t2", value: "y" },
        ],
      }),
    ]);
    await call("DELETE", keyPath(ns, "t1"));
    const count = 23;
    const [seenA, seenB] = await Promise.all([a.received(count), b.received(count)]);
    expect(seenA).toEqual(seenB);
    expect(seenA.map((m) => (m.type === "change" ? m.version : -1))).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    );
    expect(seenA.at(-1)).toEqual({ type: "change", op: "delete", key: "t1", version: 23 });
    expect(
      seenA.filter((m) => m.type === "change" && m.key === "n").map((m) => "value" in m && m.value),
    ).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    a.close();
    b.close();
  });

  it("sends exactly the contract's message shape", async () => {
    const ns = unique("sub");
    const s = await subscribe(ns);
    await put(ns, "a/b c", { value: { deep: [1, null] } });
    await call("DELETE", keyPath(ns, "a/b c"));
    expect(await s.received(2)).toEqual([
      { type: "change", op: "set", key: "a/b c", value: { deep: [1, null] }, version: 1 },
      { type: "change", op: "delete", key: "a/b c", version: 2 },
    ]);
    s.close();
  });

  it("filters by prefix", async () => {
    const ns = unique("sub");
    const users = await subscribe(ns, { prefix: "users/" });
    for (const key of ["users/1", "orders/1", "users/2", "users"]) await put(ns, key, { value: key });
    await put(ns, "users/3", { value: "last" });
    const seen = await users.received(3);
    expect(seen.map((m) => m.type === "change" && [m.key, m.version])).toEqual([
      ["users/1", 1],
      ["users/2", 3],
      ["users/3", 5],
    ]);
    users.close();
  });

  it("replays the changes after fromVersion, then continues live", async () => {
    const ns = unique("sub");
    for (let i = 1; i <= 5; i++) await put(ns, `k${i}`, { value: i });
    const s = await subscribe(ns, { fromVersion: "2" });
    await put(ns, "live", { value: 6 });
    const seen = await s.received(4);
    expect(seen.map((m) => m.type === "change" && m.version)).toEqual([3, 4, 5, 6]);
    expect(seen[0]).toEqual({ type: "change", op: "set", key: "k3", value: 3, version: 3 });
    s.close();
  });

  it("sends reset first when the changes after fromVersion are no longer retained", async () => {
    const ns = unique("sub");
    // 80 transactions of 128 puts: more changes than the log keeps (10 000).
    const ops = Array.from({ length: 128 }, (_, i) => ({ op: "put", key: `k${i}`, value: i }));
    for (let i = 0; i < 80; i++) {
      expect((await call("POST", `/v1/state/${ns}/txn`, { success: ops })).status).toBe(200);
    }
    const s = await subscribe(ns, { fromVersion: "5" });
    await put(ns, "after", { value: 1 });
    expect(await s.received(2)).toEqual([
      { type: "reset", version: 80 * 128 },
      { type: "change", op: "set", key: "after", value: 1, version: 80 * 128 + 1 },
    ]);
    // The most recent changes are still there to resume from.
    const recent = await subscribe(ns, { fromVersion: String(80 * 128 - 2) });
    expect((await recent.received(3)).map((m) => m.type === "change" && m.version)).toEqual([
      80 * 128 - 1,
      80 * 128,
      80 * 128 + 1,
    ]);
    s.close();
    recent.close();
  });

  it("emits expire from the alarm, and a repeated alarm changes nothing", async () => {
    const ns = unique("sub");
    const stub = env.STATE.getByName(ns);
    await put(ns, "short", { value: 1, ttlMs: 60_000 });
    await put(ns, "long", { value: 2, ttlMs: 120_000 });
    await put(ns, "forever", { value: 3 });
    const s = await subscribe(ns);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await s.received(1)).toEqual([{ type: "change", op: "expire", key: "short", version: 4 }]);
    expect((await call("GET", keyPath(ns, "short"))).status).toBe(404);
    expect((await call("GET", keyPath(ns, "long"))).status).toBe(200);
    // The alarm now points at the next expiry.
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeGreaterThan(
      Date.now() + 60_000,
    );
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await s.received(2)).toEqual([
      { type: "change", op: "expire", key: "short", version: 4 },
      { type: "change", op: "expire", key: "long", version: 5 },
    ]);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    await put(ns, "forever", { value: 4 });
    expect((await s.received(3))[2]).toMatchObject({ op: "set", key: "forever", version: 6 });
    expect((await call("GET", `/v1/state/${ns}`)).body.items.map((i: { key: string }) => i.key)).toEqual([
      "forever",
    ]);
    s.close();
  });

  it("an expired key reads as absent at once, before any alarm, and emits expire then", async () => {
    const ns = unique("sub");
    const s = await subscribe(ns);
    await put(ns, "blink", { value: 1, ttlMs: 1 });
    const deadline = Date.now() + 5_000;
    while ((await call("GET", keyPath(ns, "blink"))).status !== 404) {
      if (Date.now() > deadline) throw new Error("the key never expired");
    }
    expect(await s.received(2)).toEqual([
      { type: "change", op: "set", key: "blink", value: 1, version: 1 },
      { type: "change", op: "expire", key: "blink", version: 2 },
    ]);
    s.close();
  });

  it("accepts ?token= on the upgrade and refuses a missing one", async () => {
    const ns = unique("sub");
    const s = await subscribe(ns, { token: TOKEN });
    await put(ns, "k", { value: 1 });
    expect(await s.received(1)).toHaveLength(1);
    s.close();
    const res = await exports.default.fetch(
      new Request(`http://localhost/v1/state/${ns}/subscribe`, { headers: { Upgrade: "websocket" } }),
    );
    expect(res.status).toBe(401);
  });

  it("refuses bad subscription parameters with 400", async () => {
    const ns = unique("sub");
    for (const query of ["fromVersion=-1", "fromVersion=abc", `prefix=${"x".repeat(513)}`]) {
      const res = await exports.default.fetch(
        new Request(`http://localhost/v1/state/${ns}/subscribe?${query}`, {
          headers: { Upgrade: "websocket", authorization: `Bearer ${TOKEN}` },
        }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    }
  });
});
