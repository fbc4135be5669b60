/** `POST /v1/state/{namespace}/read`: several keys at one namespace version, with only `read`. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PAGE_BYTES } from "../../../durable-objects/logic/page-budget.ts";
import { rpcState } from "../../../shared/client/state.ts";
import { MAX_READ_KEYS } from "../../../shared/schemas/state.ts";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";
import { manualClockOn } from "./clock.ts";

const read = (ns: string, body: unknown, token?: string) =>
  call("POST", `/v1/state/${ns}/read`, body, token === undefined ? {} : { token });
const put = (ns: string, key: string, body: unknown) =>
  call("PUT", `/v1/state/${ns}/${encodeURIComponent(key)}`, body);

describe("POST /v1/state/{namespace}/read", () => {
  it("answers each key asked, in order, at the namespace's version; absent keys as version 0", async () => {
    const ns = unique("read");
    await put(ns, "a", { value: { n: 1 } });
    await put(ns, "b", { value: "two", ttlMs: 60_000 });
    await put(ns, "a", { value: { n: 3 } });
    const res = await read(ns, { keys: ["b", "missing", "a", "b"] });
    expect(res.status).toBe(200);
    const b = {
      key: "b",
      value: "two",
      version: 2,
      updatedAt: expect.any(Number),
      expiresAt: expect.any(Number),
    };
    expect(res.body).toEqual({
      version: 3,
      keys: [
        b,
        { key: "missing", version: 0 },
        { key: "a", value: { n: 3 }, version: 3, updatedAt: expect.any(Number) },
        b,
      ],
    });
  });

  it("reads the version alone for no keys, and writes nothing", async () => {
    const ns = unique("read");
    expect((await read(ns, { keys: [] })).body).toEqual({ version: 0, keys: [] });
    await put(ns, "k", { value: 1 });
    for (let i = 0; i < 3; i++) expect((await read(ns, { keys: ["k", "x"] })).body.version).toBe(1);
    expect((await put(ns, "k", { value: 2 })).body.version).toBe(2);
  });

  it("reads an expired key as absent before the alarm removes it, without taking a version", async () => {
    const ns = unique("read");
    await put(ns, "short", { value: 1, ttlMs: 60_000 });
    // The object's clock, moved past the expiry; no alarm has run.
    const clock = await manualClockOn(ns);
    expect((await read(ns, { keys: ["short"] })).body.keys[0]).toMatchObject({ value: 1 });
    clock.advance(60_001);
    const res = await read(ns, { keys: ["short"] });
    expect(res.body).toEqual({ version: 1, keys: [{ key: "short", version: 0 }] });
    // The read took no version for the expired key: the next write takes 2.
    expect((await put(ns, "other", { value: 2 })).body.version).toBe(2);
  });

  it("refuses a bad body with 400 naming the field", async () => {
    const ns = unique("read");
    const tooMany = Array.from({ length: MAX_READ_KEYS + 1 }, (_, i) => `k${i}`);
    expectInvalidField(await read(ns, { keys: tooMany }), "keys");
    expectInvalidField(await read(ns, { keys: ["ok", ""] }), "keys.1");
    expectInvalidField(await read(ns, { keys: ["a\u0001"] }), "keys.0");
    expectInvalidField(await read(ns, { keys: "a" }), "keys");
    expectInvalidField(await read(ns, {}), "keys");
    expectInvalidField(await read(ns, { keys: [], extra: 1 }), "extra");
    const notJson = await call("POST", `/v1/state/${ns}/read`, undefined, {
      raw: "{nope",
      headers: { "content-type": "application/json" },
    });
    expectError(notJson, 400, "invalid_request");
    const most = tooMany.slice(1);
    expect((await read(ns, { keys: most })).body.keys).toHaveLength(MAX_READ_KEYS);
  });

  it("answers at most 8 MiB of values, as a read or a transaction's gets, and writes nothing past it", async () => {
    const ns = unique("read");
    // 32 values of just under 256 KiB of JSON each come to just under the limit. Doubles are the densest value to
    // carry over RPC (9 bytes for `0.5,`): these cross the object's RPC and the binding's.
    const doubles = JSON.parse(`[${Array(65_535).fill("0.5").join(",")}]`);
    const keys = Array.from({ length: PAGE_BYTES / 262_144 }, (_, i) => `d${i}`);
    for (const key of keys) expect((await put(ns, key, { value: doubles })).status).toBe(200);
    const answer = await read(ns, { keys });
    expect(answer.status).toBe(200);
    expect(answer.body.keys.every((k) => Array.isArray(k.value) && k.value.length === 65_535)).toBe(true);
    const overBinding = await rpcState(exports.SwitchyardRpc).read(ns, { keys });
    expect(overBinding).toMatchObject({ ok: true, value: { version: keys.length } });

    await put(ns, "one-more", { value: "x".repeat(1000) });
    const over = await read(ns, { keys: [...keys, "one-more"] });
    expectError(over, 413, "payload_too_large");
    expect(over.error?.details).toMatchObject({ field: "keys", limit: PAGE_BYTES });
    const gets = [...keys, "one-more"].map((key) => ({ op: "get", key }));
    const txn = await call("POST", `/v1/state/${ns}/txn`, {
      success: [{ op: "put", key: "w", value: 1 }, ...gets],
    });
    expectError(txn, 413, "payload_too_large");
    expect(txn.error?.details).toMatchObject({ field: "success" });
    expectError(await call("GET", `/v1/state/${ns}/w`), 404, "not_found");
  });

  it("needs only read: a read token reads but cannot write through txn; a write token cannot read", async () => {
    const ns = unique("read");
    await put(ns, "k", { value: 1 });
    const reader = await scoped(`state:${ns}`, "read");
    expect((await read(ns, { keys: ["k"] }, reader)).body).toMatchObject({
      version: 1,
      keys: [{ value: 1 }],
    });
    expectError(await call("POST", `/v1/state/${ns}/txn`, {}, { token: reader }), 403, "forbidden");
    const writer = await scoped(`state:${ns}`, "write");
    expectError(await read(ns, { keys: ["k"] }, writer), 403, "forbidden");
    const elsewhere = await scoped(`state:${ns}-other`, "read");
    expectError(await read(ns, { keys: ["k"] }, elsewhere), 403, "forbidden");
  });

  it("leaves other methods on the path to the key named read", async () => {
    const ns = unique("read");
    expect((await put(ns, "read", { value: "a key" })).status).toBe(200);
    expect((await call("GET", `/v1/state/${ns}/read`)).body).toMatchObject({ key: "read", value: "a key" });
    expect((await read(ns, { keys: ["read"] })).body.keys[0]).toMatchObject({ key: "read", value: "a key" });
    expect((await call("DELETE", `/v1/state/${ns}/read`)).body).toEqual({ deleted: true });
  });
});
