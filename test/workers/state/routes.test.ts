import { describe, expect, it } from "vitest";
import { call, expectDocumented, expectError, unique } from "../helpers.ts";

/** A key's path, or (with `suffix`) the path of a route below it: the answers are typed by the route. */
function keyPath(ns: string, key: string): `/v1/state/${string}/${string}`;
function keyPath(ns: string, key: string, suffix: "/increment"): `/v1/state/${string}/${string}/increment`;
function keyPath(ns: string, key: string, suffix = "") {
  return `/v1/state/${ns}/${encodeURIComponent(key)}${suffix}`;
}
const put = (ns: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
  call("PUT", keyPath(ns, key), body, { headers });
const get = (ns: string, key: string) => call("GET", keyPath(ns, key));

describe("get, put and versions", () => {
  it("writes and reads back a value with its version as the ETag", async () => {
    const ns = unique("st");
    const written = await put(ns, "a", { value: { plan: "pro", seats: 3 } });
    expect(written.status).toBe(200);
    expect(written.body).toEqual({ key: "a", version: 1 });
    const read = await get(ns, "a");
    expect(read.status).toBe(200);
    expect(read.headers.get("etag")).toBe('"1"');
    expect(read.body).toEqual({
      key: "a",
      value: { plan: "pro", seats: 3 },
      version: 1,
      updatedAt: expect.any(Number),
    });
    expect(read.body.expiresAt).toBeUndefined();
  });

  it("takes versions from one counter per namespace, so every key's versions strictly increase", async () => {
    const ns = unique("st");
    expect((await put(ns, "a", { value: 1 })).body.version).toBe(1);
    expect((await put(ns, "b", { value: 2 })).body.version).toBe(2);
    expect((await put(ns, "a", { value: 3 })).body.version).toBe(3);
    expect((await call("DELETE", keyPath(ns, "b"))).status).toBe(200);
    expect((await put(ns, "b", { value: 4 })).body.version).toBe(5);
    const other = unique("st");
    expect((await put(other, "a", { value: 1 })).body.version).toBe(1);
  });

  it("stores any JSON value, null included", async () => {
    const ns = unique("st");
    for (const value of [null, 0, -1.5, "", "text", true, [], [1, [2]], { nested: { deep: [null] } }]) {
      await put(ns, "v", { value });
      expect((await get(ns, "v")).body.value).toEqual(value);
    }
  });

  it("answers 404 not_found for an absent key", async () => {
    const res = await get(unique("st"), "missing");
    expectError(res, 404, "not_found");
  });

  it.each([
    ["a slash", "users/42/profile"],
    ["spaces", "my key with spaces"],
    ["Unicode", "ключ/日本語/🔑"],
    ["percent signs", "100%/%2F/%zz"],
    ["reserved URL characters", "a?b#c&d=e+f;g"],
    ["the name of a route", "txn"],
  ])("addresses keys with %s", async (_label, key) => {
    const ns = unique("st");
    expect((await put(ns, key, { value: key })).status).toBe(200);
    const read = await get(ns, key);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ key, value: key });
    expect((await call("GET", `/v1/state/${ns}`)).body.items.map((i: { key: string }) => i.key)).toEqual([
      key,
    ]);
    expect((await call("POST", keyPath(ns, `${key}-n`, "/increment"), {})).body.value).toBe(1);
    expect((await call("DELETE", keyPath(ns, key))).body).toEqual({ deleted: true });
  });

  it("reads the key named subscribe with a plain GET (only an upgrade subscribes)", async () => {
    const ns = unique("st");
    await put(ns, "subscribe", { value: "plain" });
    expect((await get(ns, "subscribe")).body.value).toBe("plain");
  });

  it("accepts a 512-byte key and refuses a 513-byte one", async () => {
    const ns = unique("st");
    const at = "é".repeat(256);
    expect((await put(ns, at, { value: 1 })).status).toBe(200);
    const over = `${at}x`;
    const res = await put(ns, over, { value: 1 });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: "invalid_request", details: { field: "key" } });
    expect((await get(ns, over)).status).toBe(400);
  });

  it("refuses an empty key with 400", async () => {
    const ns = unique("st");
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await call(method, `/v1/state/${ns}/`, method === "PUT" ? { value: 1 } : undefined);
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe("key");
    }
  });

  it("refuses a key segment that is not valid percent-encoded UTF-8", async () => {
    const ns = unique("st");
    for (const segment of ["%ZZ", "a%C3%28b", "%"]) {
      for (const method of ["GET", "PUT"]) {
        const res = await call(
          method,
          `/v1/state/${ns}/${segment}`,
          method === "PUT" ? { value: 1 } : undefined,
        );
        expect(res.status).toBe(400);
        expect(res.error?.details?.field).toBe("key");
      }
    }
    const inc = await call("POST", `/v1/state/${ns}/%ZZ/increment`, { by: 1 });
    expect(inc.status).toBe(400);
  });

  it("checks the token before a key it cannot decode or an empty key (401 before 400)", async () => {
    const ns = unique("st");
    for (const path of [`/v1/state/${ns}/%ZZ`, `/v1/state/${ns}/%ZZ/increment`, `/v1/state/${ns}/`]) {
      const method = path.endsWith("increment") ? "POST" : "GET";
      expect((await call(method, path, undefined, { token: null })).status).toBe(401);
      const foreign = await call(method, path, undefined, { headers: { Origin: "https://evil.example" } });
      expect(foreign.status).toBe(403);
    }
  });

  it("refuses keys with control characters", async () => {
    const ns = unique("st");
    for (const key of ["line\nbreak", "tab\there", "nul\u0000", "del\u007f"]) {
      const res = await put(ns, key, { value: 1 });
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe("key");
    }
  });

  it("refuses a bad namespace name with 400", async () => {
    const res = await call("PUT", `/v1/state/${encodeURIComponent("bad name")}/k`, { value: 1 });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("namespace");
  });

  it("accepts a value at 256 KiB and refuses one over it with 413", async () => {
    const ns = unique("st");
    const limit = 256 * 1024;
    expect((await put(ns, "big", { value: "x".repeat(limit) })).status).toBe(200);
    expect((await get(ns, "big")).body.value).toHaveLength(limit);
    const over = await put(ns, "big", { value: "x".repeat(limit + 1) });
    expectError(over, 413, "payload_too_large");
    // Non-strings count their JSON text.
    const array = await put(ns, "arr", { value: ["x".repeat(limit)] });
    expect(array.status).toBe(413);
    expect((await get(ns, "big")).body.value).toHaveLength(limit);
  });

  it("refuses bodies without a value, with bad TTLs, or not JSON", async () => {
    const ns = unique("st");
    expect((await put(ns, "k", {})).error?.details?.field).toBe("value");
    for (const ttlMs of [0, -5, 1.5, "10"]) {
      const res = await put(ns, "k", { value: 1, ttlMs });
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe("ttlMs");
    }
    const text = await call("PUT", keyPath(ns, "k"), undefined, {
      raw: "1",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
  });

  it("reports expiresAt for a key with a TTL and clears it on a put without one", async () => {
    const ns = unique("st");
    const before = Date.now();
    await put(ns, "t", { value: 1, ttlMs: 60_000 });
    const read = (await get(ns, "t")).body;
    expect(read.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
    await put(ns, "t", { value: 2 });
    expect((await get(ns, "t")).body.expiresAt).toBeUndefined();
  });

  it("answers 405 for a method a key route does not have", async () => {
    const res = await call("POST", keyPath(unique("st"), "k"), {});
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("PUT");
  });
});

describe("conditional writes", () => {
  it("If-Match makes a put compare-and-set", async () => {
    const ns = unique("st");
    const v1 = (await put(ns, "k", { value: "a" })).body.version;
    const ok = await put(ns, "k", { value: "b" }, { "If-Match": `"${v1}"` });
    expect(ok.status).toBe(200);
    const stale = await put(ns, "k", { value: "c" }, { "If-Match": `"${v1}"` });
    expect(stale.status).toBe(412);
    expect(stale.error).toMatchObject({
      code: "version_mismatch",
      details: { currentVersion: ok.body.version },
    });
    expect((await get(ns, "k")).body.value).toBe("b");
  });

  it('If-Match on an absent key fails with currentVersion 0, and If-Match: "0" means absent', async () => {
    const ns = unique("st");
    const res = await put(ns, "k", { value: 1 }, { "If-Match": '"3"' });
    expect(res.status).toBe(412);
    expect(res.error?.details?.currentVersion).toBe(0);
    expect((await put(ns, "k", { value: 1 }, { "If-Match": '"0"' })).status).toBe(200);
    expect((await put(ns, "k", { value: 2 }, { "If-Match": '"0"' })).status).toBe(412);
  });

  it("If-None-Match: * creates only", async () => {
    const ns = unique("st");
    expect((await put(ns, "k", { value: 1 }, { "If-None-Match": "*" })).status).toBe(200);
    const again = await put(ns, "k", { value: 2 }, { "If-None-Match": "*" });
    expect(again.status).toBe(412);
    expect(again.error?.details?.currentVersion).toBe(1);
  });

  it("If-Match: * needs the key to exist", async () => {
    const ns = unique("st");
    expect((await put(ns, "k", { value: 1 }, { "If-Match": "*" })).status).toBe(412);
    await put(ns, "k", { value: 1 });
    expect((await put(ns, "k", { value: 2 }, { "If-Match": "*" })).status).toBe(200);
  });

  it("refuses a malformed If-Match with 400", async () => {
    const res = await put(unique("st"), "k", { value: 1 }, { "If-Match": "yesterday" });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("if-match");
  });

  it("deletes with an optional If-Match; absent → 404", async () => {
    const ns = unique("st");
    const v = (await put(ns, "k", { value: 1 })).body.version;
    const stale = await call("DELETE", keyPath(ns, "k"), undefined, {
      headers: { "If-Match": `"${v + 1}"` },
    });
    expect(stale.status).toBe(412);
    expect(stale.error?.details?.currentVersion).toBe(v);
    const done = await call("DELETE", keyPath(ns, "k"), undefined, { headers: { "If-Match": `"${v}"` } });
    expect(done.body).toEqual({ deleted: true });
    expect((await get(ns, "k")).status).toBe(404);
    const again = await call("DELETE", keyPath(ns, "k"));
    expectError(again, 404, "not_found");
    // 404 comes before 412 in the contract's order of checks.
    const stillAbsent = await call("DELETE", keyPath(ns, "k"), undefined, {
      headers: { "If-Match": `"${v}"` },
    });
    expectError(stillAbsent, 404, "not_found");
  });
});

describe("increment", () => {
  it("counts an absent key from 0, adds by, and refuses non-numbers with 409", async () => {
    const ns = unique("st");
    const inc = (key: string, body: unknown) => call("POST", keyPath(ns, key, "/increment"), body);
    expect((await inc("n", {})).body).toEqual({ key: "n", value: 1, version: 1 });
    expect((await inc("n", { by: 41 })).body).toMatchObject({ value: 42, version: 2 });
    expect((await inc("n", { by: -2.5 })).body.value).toBe(39.5);
    expect((await get(ns, "n")).body.value).toBe(39.5);
    await put(ns, "s", { value: "text" });
    const nan = await inc("s", {});
    expectError(nan, 409, "not_a_number");
    expect((await inc("n", { by: "1" })).status).toBe(400);
    expect((await inc("big", { by: Number.MAX_VALUE })).status).toBe(200);
    expect((await inc("big", { by: Number.MAX_VALUE })).error?.code).toBe("not_a_number");
  });

  it("keeps the expiry without ttlMs and moves it with one", async () => {
    const ns = unique("st");
    await put(ns, "n", { value: 1, ttlMs: 60_000 });
    const first = (await get(ns, "n")).body.expiresAt;
    if (first === undefined) throw new Error("a key put with ttlMs has no expiresAt");
    await call("POST", keyPath(ns, "n", "/increment"), {});
    expect((await get(ns, "n")).body.expiresAt).toBe(first);
    await call("POST", keyPath(ns, "n", "/increment"), { ttlMs: 120_000 });
    expect((await get(ns, "n")).body.expiresAt).toBeGreaterThan(first);
  });
});

describe("list", () => {
  it("lists by prefix in key order, a page at a time", async () => {
    const ns = unique("st");
    const keys = ["b/2", "a", "b/1", "b/10", "c", "b/", "b/é", "b/z"];
    for (const key of keys) await put(ns, key, { value: key });
    const all = await call("GET", `/v1/state/${ns}?limit=1000`);
    expect(all.body.items.map((i: { key: string }) => i.key)).toEqual([
      "a",
      "b/",
      "b/1",
      "b/10",
      "b/2",
      "b/z",
      "b/é",
      "c",
    ]);
    expect(all.body.items[0]).toEqual({ key: "a", version: 2, updatedAt: expect.any(Number) });
    expect(all.body.cursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `prefix=${encodeURIComponent("b/")}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await call("GET", `/v1/state/${ns}?${q}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i: { key: string }) => i.key));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen).toEqual(["b/", "b/1", "b/10", "b/2", "b/z", "b/é"]);
  });

  it("returns an empty page for an empty namespace", async () => {
    const res = await call("GET", `/v1/state/${unique("st")}`);
    expect(res.body).toEqual({ items: [], cursor: null });
  });

  it.each([["limit=0"], ["limit=1001"], ["limit=abc"], ["cursor=%25%25"], ["cursor=AAA"]])(
    "refuses %s with 400",
    async (query) => {
      const res = await call("GET", `/v1/state/${unique("st")}?${query}`);
      expectError(res, 400, "invalid_request");
    },
  );
});

describe("OpenAPI", () => {
  it("documents every state route, the transaction included", async () => {
    const doc = await expectDocumented([
      "/v1/state/{namespace}",
      "/v1/state/{namespace}/{key}",
      "/v1/state/{namespace}/{key}/increment",
      "/v1/state/{namespace}/subscribe",
      "/v1/state/{namespace}/txn",
    ]);
    expect(doc.paths["/v1/state/{namespace}/txn"]?.post?.requestBody).toBeDefined();
  });
});
