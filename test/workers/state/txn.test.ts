import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { manualClockOn } from "./clock.ts";
import { subscribe } from "./subscriber.ts";

const txn = (ns: string, body: unknown) => call("POST", `/v1/state/${ns}/txn`, body);
const get = (ns: string, key: string) => call("GET", `/v1/state/${ns}/${encodeURIComponent(key)}`);

describe("POST /v1/state/{namespace}/txn", () => {
  it("moves a balance between two keys atomically when both versions still hold", async () => {
    const ns = unique("txn");
    await txn(ns, {
      success: [
        { op: "put", key: "acct/a", value: 100 },
        { op: "put", key: "acct/b", value: 0 },
      ],
    });
    const a = (await get(ns, "acct/a")).body;
    const b = (await get(ns, "acct/b")).body;
    if (typeof a.value !== "number" || typeof b.value !== "number")
      throw new Error("the balances are not numbers");
    const transfer = {
      compare: [
        { key: "acct/a", version: a.version },
        { key: "acct/b", version: b.version },
      ],
      success: [
        { op: "put", key: "acct/a", value: a.value - 30 },
        { op: "put", key: "acct/b", value: b.value + 30 },
      ],
      failure: [{ op: "get", key: "acct/a" }],
    };
    const first = await txn(ns, transfer);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      succeeded: true,
      version: 4,
      results: [
        { op: "put", key: "acct/a", version: 3 },
        { op: "put", key: "acct/b", version: 4 },
      ],
    });
    // Replaying the same transaction finds the versions moved and runs the failure branch.
    const replay = await txn(ns, transfer);
    expect(replay.body).toMatchObject({
      succeeded: false,
      version: 4,
      results: [{ op: "get", key: "acct/a", value: 70, version: 3 }],
    });
    expect((await get(ns, "acct/b")).body.value).toBe(30);
  });

  it("compares values and absent keys", async () => {
    const ns = unique("txn");
    const createIfAbsent = {
      compare: [{ key: "leader", version: 0 }],
      success: [{ op: "put", key: "leader", value: { id: "n1" } }],
      failure: [{ op: "get", key: "leader" }],
    };
    expect((await txn(ns, createIfAbsent)).body.succeeded).toBe(true);
    const again = await txn(ns, {
      ...createIfAbsent,
      success: [{ op: "put", key: "leader", value: { id: "n2" } }],
    });
    expect(again.body.results[0]).toMatchObject({ op: "get", value: { id: "n1" } });
    const byValue = await txn(ns, {
      compare: [{ key: "leader", value: { id: "n1" } }],
      success: [{ op: "delete", key: "leader" }],
    });
    expect(byValue.body).toMatchObject({ succeeded: true, results: [{ op: "delete", deleted: true }] });
    expect((await get(ns, "leader")).status).toBe(404);
  });

  it("emits one change per write, in order", async () => {
    const ns = unique("txn");
    const s = await subscribe(ns);
    await txn(ns, {
      success: [
        { op: "put", key: "a", value: 1 },
        { op: "delete", key: "a" },
        { op: "delete", key: "never-there" },
        { op: "put", key: "b", value: 2, ttlMs: 60_000 },
      ],
    });
    expect(await s.received(3)).toEqual([
      { type: "change", op: "set", key: "a", value: 1, version: 1 },
      { type: "change", op: "delete", key: "a", version: 2 },
      { type: "change", op: "set", key: "b", value: 2, version: 3 },
    ]);
    expect((await get(ns, "b")).body.expiresAt).toBeGreaterThan(Date.now());
    s.close();
  });

  it("accepts an empty transaction", async () => {
    const res = await txn(unique("txn"), {});
    expect(res.body).toEqual({ succeeded: true, version: 0, results: [] });
  });

  it.each([
    [
      "a compare with both version and value",
      { compare: [{ key: "a", version: 1, value: 1 }] },
      "compare.0.value",
    ],
    ["a compare with neither", { compare: [{ key: "a" }] }, "compare.0.version"],
    ["ordering on a value", { compare: [{ key: "a", op: "<", value: 1 }] }, "compare.0.op"],
    ["an unknown op", { success: [{ op: "incr", key: "a" }] }, "success.0.op"],
    ["a bad key", { success: [{ op: "get", key: "" }] }, "success.0.key"],
    ["a put without value", { success: [{ op: "put", key: "a" }] }, "success.0.value"],
    [
      "too many operations",
      { success: Array.from({ length: 129 }, () => ({ op: "get", key: "a" })) },
      "success",
    ],
  ])("refuses %s with 400", async (_label, body, field) => {
    const res = await txn(unique("txn"), body);
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: "invalid_request", details: { field } });
  });

  it("expires the keys it touches first, so its writes take the versions after theirs", async () => {
    const ns = unique("txn");
    await call("PUT", `/v1/state/${ns}/lease`, { value: "n1", ttlMs: 60_000 });
    await call("PUT", `/v1/state/${ns}/seen`, { value: 0, ttlMs: 60_000 });
    (await manualClockOn(ns)).advance(60_001);
    const changes = await subscribe(ns, { fromVersion: "2" });
    // Both keys have expired, and no alarm has removed them: the txn meets them first.
    const res = await txn(ns, {
      compare: [{ key: "lease", version: 0 }],
      success: [
        { op: "get", key: "seen" },
        { op: "put", key: "lease", value: "n2" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ succeeded: true, version: 5 });
    expect(res.body.results).toEqual([
      { op: "get", key: "seen", version: 0 },
      { op: "put", key: "lease", version: 5 },
    ]);
    expect(await changes.received(3)).toEqual([
      { type: "change", op: "expire", key: "lease", version: 3 },
      { type: "change", op: "expire", key: "seen", version: 4 },
      { type: "change", op: "set", key: "lease", value: "n2", version: 5 },
    ]);
    changes.close();
  });

  it("refuses an oversized value with 413 and writes nothing", async () => {
    const ns = unique("txn");
    const res = await txn(ns, {
      success: [
        { op: "put", key: "small", value: 1 },
        { op: "put", key: "big", value: "x".repeat(256 * 1024 + 1) },
      ],
    });
    expect(res.status).toBe(413);
    expect((await get(ns, "small")).status).toBe(404);
  });
});
