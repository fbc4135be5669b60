import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareHolds,
  jsonEqual,
  planDelete,
  planIncrement,
  planPut,
  planTxn,
  preconditionHolds,
  type StoredEntry,
} from "../../../durable-objects/logic/state-writes.ts";
import type { TxnInput } from "../../../shared/schemas/state.ts";

const entry = (value: unknown, version: number, expiresAt: number | null = null): StoredEntry => ({
  json: JSON.stringify(value),
  version,
  updatedAt: 1,
  expiresAt,
});

describe("preconditionHolds", () => {
  it.each([
    [{}, 0, true],
    [{}, 5, true],
    [{ ifMatch: 5 }, 5, true],
    [{ ifMatch: 5 }, 6, false],
    [{ ifMatch: 5 }, 0, false],
    [{ ifMatch: 0 }, 0, true],
    [{ ifMatch: 0 }, 1, false],
    [{ ifMatch: "*" as const }, 0, false],
    [{ ifMatch: "*" as const }, 3, true],
    [{ ifNoneMatch: "*" as const }, 0, true],
    [{ ifNoneMatch: "*" as const }, 2, false],
    [{ ifNoneMatch: 2 }, 2, false],
    [{ ifNoneMatch: 2 }, 3, true],
  ])("%j at version %i → %s", (pre, current, expected) => {
    expect(preconditionHolds(pre, current)).toBe(expected);
  });
});

describe("single writes", () => {
  it("a put takes the next version and sets or clears the expiry", () => {
    const put = planPut("k", { value: 1, ttlMs: 10 }, {}, undefined, 7, 100);
    expect(put).toEqual({
      ok: true,
      value: { op: "set", key: "k", json: "1", version: 8, updatedAt: 100, expiresAt: 110 },
    });
    const plain = planPut("k", { value: 1 }, {}, entry(0, 8, 110), 8, 100);
    expect(plain.ok && plain.value.expiresAt).toBeNull();
  });

  it("a failed precondition reports the current version, 0 when absent", () => {
    const absent = planPut("k", { value: 1 }, { ifMatch: 3 }, undefined, 9, 0);
    expect(absent.ok || absent.error).toMatchObject({
      code: "version_mismatch",
      details: { currentVersion: 0 },
    });
    const present = planDelete("k", { ifMatch: 3 }, entry(1, 4), 9);
    expect(present.ok || present.error.details).toEqual({ currentVersion: 4 });
  });

  it("a delete of an absent key is not_found, with or without If-Match", () => {
    const res = planDelete("k", {}, undefined, 9);
    expect(res.ok || res.error.code).toBe("not_found");
    const matched = planDelete("k", { ifMatch: 3 }, undefined, 9);
    expect(matched.ok || matched.error.code).toBe("not_found");
  });

  it("an increment counts from 0, keeps the expiry, and refuses non-numbers and infinities", () => {
    const fresh = planIncrement("n", { by: 2 }, undefined, 0, 50);
    expect(fresh.ok && fresh.value).toEqual({
      value: 2,
      write: { op: "set", key: "n", json: "2", version: 1, updatedAt: 50, expiresAt: null },
    });
    const kept = planIncrement("n", { by: 1 }, entry(2, 1, 500), 1, 60);
    expect(kept.ok && kept.value.write.expiresAt).toBe(500);
    const moved = planIncrement("n", { by: 1, ttlMs: 5 }, entry(2, 1, 500), 1, 60);
    expect(moved.ok && moved.value.write.expiresAt).toBe(65);
    for (const value of ["3", null, [1], { n: 1 }]) {
      const res = planIncrement("n", { by: 1 }, entry(value, 1), 1, 0);
      expect(res.ok || res.error.code).toBe("not_a_number");
    }
    const inf = planIncrement("n", { by: Number.MAX_VALUE }, entry(Number.MAX_VALUE, 1), 1, 0);
    expect(inf.ok || inf.error.code).toBe("not_a_number");
  });
});

describe("jsonEqual", () => {
  it("ignores key order and nothing else", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual("1", 1)).toBe(false);
  });

  it("agrees with comparing JSON texts of the same value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b);
        if (same) expect(jsonEqual(a, b)).toBe(true);
        expect(jsonEqual(a, JSON.parse(JSON.stringify(a)))).toBe(true);
        expect(jsonEqual(a, b)).toBe(jsonEqual(b, a));
      }),
    );
  });
});

describe("compareHolds", () => {
  it("compares versions, 0 for an absent key", () => {
    expect(compareHolds({ key: "k", op: "==", version: 0 }, undefined)).toBe(true);
    expect(compareHolds({ key: "k", op: "==", version: 3 }, entry(1, 3))).toBe(true);
    expect(compareHolds({ key: "k", op: "!=", version: 3 }, entry(1, 3))).toBe(false);
    expect(compareHolds({ key: "k", op: "<", version: 4 }, entry(1, 3))).toBe(true);
    expect(compareHolds({ key: "k", op: ">", version: 3 }, entry(1, 3))).toBe(false);
  });

  it("compares values structurally; an absent key equals no value", () => {
    expect(compareHolds({ key: "k", op: "==", value: { a: 1, b: 2 } }, entry({ b: 2, a: 1 }, 1))).toBe(true);
    expect(compareHolds({ key: "k", op: "!=", value: 1 }, entry(2, 1))).toBe(true);
    expect(compareHolds({ key: "k", op: "==", value: null }, undefined)).toBe(false);
    expect(compareHolds({ key: "k", op: "!=", value: null }, undefined)).toBe(true);
  });
});

describe("planTxn", () => {
  const store = new Map<string, StoredEntry>([
    ["a", entry(1, 3)],
    ["b", entry("x", 5)],
  ]);
  const read = (key: string) => store.get(key);
  const txn = (t: Partial<TxnInput>): TxnInput => ({ compare: [], success: [], failure: [], ...t });

  it("runs success when every compare holds, each write taking the next version", () => {
    const plan = planTxn(
      txn({
        compare: [
          { key: "a", op: "==", version: 3 },
          { key: "b", op: "==", value: "x" },
        ],
        success: [
          { op: "put", key: "a", value: 2 },
          { op: "get", key: "a" },
          { op: "delete", key: "b" },
          { op: "get", key: "b" },
          { op: "delete", key: "zz" },
        ],
        failure: [{ op: "put", key: "never", value: 0 }],
      }),
      read,
      5,
      100,
    );
    expect(plan.ok && plan.value).toEqual({
      succeeded: true,
      version: 7,
      writes: [
        { op: "set", key: "a", json: "2", version: 6, updatedAt: 100, expiresAt: null },
        { op: "delete", key: "b", version: 7 },
      ],
      results: [
        { op: "put", key: "a", version: 6 },
        { op: "get", key: "a", version: 6, value: 2, updatedAt: 100 },
        { op: "delete", key: "b", deleted: true, version: 7 },
        { op: "get", key: "b", version: 0 },
        { op: "delete", key: "zz", deleted: false },
      ],
    });
  });

  it("runs failure when any compare fails", () => {
    const plan = planTxn(
      txn({
        compare: [
          { key: "a", op: "==", version: 3 },
          { key: "a", op: "==", value: 99 },
        ],
        success: [{ op: "put", key: "a", value: 2 }],
        failure: [{ op: "get", key: "a" }],
      }),
      read,
      5,
      100,
    );
    expect(plan.ok && plan.value).toMatchObject({
      succeeded: false,
      version: 5,
      writes: [],
      results: [{ op: "get", key: "a", version: 3, value: 1 }],
    });
  });

  it("refuses an oversized value in either branch", () => {
    const big = "x".repeat(256 * 1024 + 1);
    const plan = planTxn(txn({ failure: [{ op: "put", key: "a", value: big }] }), read, 5, 0);
    expect(plan.ok || plan.error).toMatchObject({
      code: "payload_too_large",
      details: { field: "failure.0.value" },
    });
  });
});
