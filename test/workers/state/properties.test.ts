import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StateMessage, TxnOpResult } from "../../../shared/schemas/state.ts";
import { call, expectError, unique } from "../helpers.ts";
import { manualClockOn } from "./clock.ts";
import { subscribe } from "./subscriber.ts";

const KEYS = ["a", "a/b", "b", "b c"];
const TTLS = [60_000, 120_000, 180_000];

type Command =
  | { op: "put"; key: string; value: number | string; ttlMs?: number; createOnly: boolean }
  | { op: "cas"; key: string; value: number; stale: boolean }
  | { op: "delete"; key: string }
  | { op: "increment"; key: string; by: number; ttlMs?: number }
  | { op: "expire" }
  | { op: "advance"; ms: number }
  | { op: "read"; keys: string[] }
  | { op: "txn"; compare: TxnCompare[]; success: TxnOp[]; failure: TxnOp[] };

/** A compare on whether a key is absent (`==` 0) or present (`!=` 0). */
type TxnCompare = { key: string; op: "==" | "!="; version: 0 };
type TxnOp =
  | { op: "put"; key: string; value: number }
  | { op: "delete"; key: string }
  | { op: "get"; key: string };

const key = fc.constantFrom(...KEYS);
const ttl = fc.option(fc.constantFrom(...TTLS), { nil: undefined });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record(
      {
        op: fc.constant("put" as const),
        key,
        value: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom("s", "t")),
        ttlMs: ttl,
        createOnly: fc.boolean(),
      },
      { requiredKeys: ["op", "key", "value", "createOnly"] },
    ),
    weight: 3,
  },
  fc.record({ op: fc.constant("cas" as const), key, value: fc.integer(), stale: fc.boolean() }),
  fc.record({ op: fc.constant("delete" as const), key }),
  {
    arbitrary: fc.record(
      { op: fc.constant("increment" as const), key, by: fc.integer({ min: -3, max: 3 }), ttlMs: ttl },
      { requiredKeys: ["op", "key", "by"] },
    ),
    weight: 2,
  },
  fc.record({ op: fc.constant("expire" as const) }),
  // Time passes with no alarm run: the next request meets keys that have expired.
  fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(30_000, 70_000) }),
  fc.record({ op: fc.constant("read" as const), keys: fc.array(key, { maxLength: 5 }) }),
  {
    arbitrary: fc.record({
      op: fc.constant("txn" as const),
      compare: fc.array(
        fc.record({
          key,
          op: fc.constantFrom("==" as const, "!=" as const),
          version: fc.constant(0 as const),
        }),
        { maxLength: 2 },
      ),
      success: fc.array(txnOp(), { maxLength: 3 }),
      failure: fc.array(txnOp(), { maxLength: 3 }),
    }),
    weight: 2,
  },
);

function txnOp(): fc.Arbitrary<TxnOp> {
  return fc.oneof(
    fc.record({ op: fc.constant("put" as const), key, value: fc.integer({ min: 0, max: 9 }) }),
    fc.record({ op: fc.constant("delete" as const), key }),
    fc.record({ op: fc.constant("get" as const), key }),
  );
}

interface ModelEntry {
  value: number | string;
  version: number;
  expiresAt?: number;
}

/** The simplest thing that could be right: a map, a counter and the list of changes. */
class Model {
  readonly keys = new Map<string, ModelEntry>();
  readonly changes: StateMessage[] = [];
  version = 0;

  set(key: string, value: number | string, expiresAt?: number): number {
    this.version += 1;
    this.keys.set(key, { value, version: this.version, ...(expiresAt === undefined ? {} : { expiresAt }) });
    this.changes.push({ type: "change", op: "set", key, value, version: this.version });
    return this.version;
  }

  remove(key: string, op: "delete" | "expire"): void {
    this.version += 1;
    this.keys.delete(key);
    this.changes.push({ type: "change", op, key, version: this.version });
  }

  /** The live entry of `key` at `now`: an expired key reads as absent before anything removes it. */
  live(key: string, now: number): ModelEntry | undefined {
    const entry = this.keys.get(key);
    return entry && (entry.expiresAt === undefined || entry.expiresAt > now) ? entry : undefined;
  }

  /** What a write to `key` does first: the `expire` of a key that has expired, taking a version. */
  expireIfDue(key: string, now: number): void {
    if (this.keys.has(key) && !this.live(key, now)) this.remove(key, "expire");
  }

  /**
   * A transaction at `now`: the keys it names that have expired are expired first, in the order it
   * names them; then the compares pick a branch, whose operations run in order.
   */
  txn(c: Extract<Command, { op: "txn" }>, now: number) {
    for (const k of new Set([...c.compare, ...c.success, ...c.failure].map((item) => item.key))) {
      this.expireIfDue(k, now);
    }
    const succeeded = c.compare.every((cmp) => (this.live(cmp.key, now) === undefined) === (cmp.op === "=="));
    const results: TxnOpResult[] = [];
    for (const op of succeeded ? c.success : c.failure) {
      if (op.op === "get") results.push({ op: "get", ...readOf(op.key, this.live(op.key, now)) });
      else if (op.op === "put") results.push({ op: "put", key: op.key, version: this.set(op.key, op.value) });
      else if (this.live(op.key, now)) {
        this.remove(op.key, "delete");
        results.push({ op: "delete", key: op.key, deleted: true, version: this.version });
      } else results.push({ op: "delete", key: op.key, deleted: false });
    }
    return { succeeded, version: this.version, results };
  }

  /** What an alarm at `at` removes: keys due by then, earliest first, ties in key order. */
  expireUntil(at: number): void {
    const due = [...this.keys.entries()]
      .filter(([, e]) => e.expiresAt !== undefined && e.expiresAt <= at)
      .sort(([ka, a], [kb, b]) => (a.expiresAt as number) - (b.expiresAt as number) || (ka < kb ? -1 : 1));
    for (const [k] of due) this.remove(k, "expire");
  }
}

/** A key as a read answers it (the updated time is the object's own). */
function readOf(key: string, entry: ModelEntry | undefined) {
  if (!entry) return { key, version: 0 };
  const expiry = entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt };
  return { key, value: entry.value, version: entry.version, updatedAt: expect.any(Number), ...expiry };
}

/** A key's path: the answers are typed by the route. */
const path = (ns: string, k: string): `/v1/state/${string}/${string}` =>
  `/v1/state/${ns}/${encodeURIComponent(k)}`;

async function expiresAt(ns: string, k: string): Promise<number | undefined> {
  return (await call("GET", path(ns, k))).body.expiresAt;
}

describe("state under random operation sequences (real object, storage, alarms and a subscriber)", () => {
  it("matches a simple model: values, versions, errors, reads, transactions, expiry, listing and the change stream", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (cmds) => {
        const ns = unique("prop");
        const stub = env.STATE.getByName(ns);
        const clock = await manualClockOn(ns);
        const model = new Model();
        const watcher = await subscribe(ns);
        for (const c of cmds) {
          // A write to a key that has expired first expires it, as the object does.
          if (c.op === "put" || c.op === "cas" || c.op === "delete" || c.op === "increment") {
            model.expireIfDue(c.key, clock.now());
          }
          const current = "key" in c ? model.live(c.key, clock.now()) : undefined;
          switch (c.op) {
            case "put": {
              const headers: Record<string, string> = c.createOnly ? { "If-None-Match": "*" } : {};
              const body = c.ttlMs === undefined ? { value: c.value } : { value: c.value, ttlMs: c.ttlMs };
              const res = await call("PUT", path(ns, c.key), body, { headers });
              if (c.createOnly && current) {
                expect(res.status).toBe(412);
                expect(res.error?.details?.currentVersion).toBe(current.version);
                break;
              }
              expect(res.body).toEqual({ key: c.key, version: model.version + 1 });
              model.set(c.key, c.value, c.ttlMs === undefined ? undefined : await expiresAt(ns, c.key));
              break;
            }
            case "cas": {
              const expected = (current?.version ?? 0) + (c.stale ? 1 : 0);
              const res = await call(
                "PUT",
                path(ns, c.key),
                { value: c.value },
                { headers: { "If-Match": `"${expected}"` } },
              );
              if (c.stale) {
                expect(res.status).toBe(412);
                expect(res.error?.details?.currentVersion).toBe(current?.version ?? 0);
              } else {
                expect(res.body.version).toBe(model.set(c.key, c.value));
              }
              break;
            }
            case "delete": {
              const res = await call("DELETE", path(ns, c.key));
              if (current) {
                expect(res.body).toEqual({ deleted: true });
                model.remove(c.key, "delete");
              } else {
                expect(res.status).toBe(404);
              }
              break;
            }
            case "increment": {
              const body = c.ttlMs === undefined ? { by: c.by } : { by: c.by, ttlMs: c.ttlMs };
              const res = await call("POST", `${path(ns, c.key)}/increment`, body);
              if (current && typeof current.value !== "number") {
                expectError(res, 409, "not_a_number");
                break;
              }
              const value = ((current?.value as number | undefined) ?? 0) + c.by;
              expect(res.body).toEqual({ key: c.key, value, version: model.version + 1 });
              const expiry = c.ttlMs === undefined ? current?.expiresAt : await expiresAt(ns, c.key);
              model.set(c.key, value, expiry);
              break;
            }
            case "expire": {
              const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
              const due = [...model.keys.values()].map((e) => e.expiresAt).filter((t) => t !== undefined);
              // Never late; it may stand early where a key it was set for has gone since.
              if (due.length > 0) expect(alarm).not.toBeNull();
              if (alarm !== null) {
                expect(alarm).toBeLessThanOrEqual(Math.min(...due));
                expect(await runDurableObjectAlarm(stub)).toBe(true);
                model.expireUntil(Math.max(alarm, clock.now()));
              }
              break;
            }
            case "advance":
              clock.advance(c.ms);
              break;
            case "read": {
              const res = await call("POST", `/v1/state/${ns}/read`, { keys: c.keys });
              expect(res.body).toEqual({
                version: model.version,
                keys: c.keys.map((k) => readOf(k, model.live(k, clock.now()))),
              });
              break;
            }
            case "txn": {
              const body = { compare: c.compare, success: c.success, failure: c.failure };
              const res = await call("POST", `/v1/state/${ns}/txn`, body);
              expect(res.body).toEqual(model.txn(c, clock.now()));
              break;
            }
          }
        }
        const live = [...model.keys.entries()].filter(([k]) => model.live(k, clock.now()));
        const listed = (await call("GET", `/v1/state/${ns}?limit=1000`)).body.items;
        expect(listed.map((i: { key: string; version: number }) => [i.key, i.version])).toEqual(
          live.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => [k, e.version]),
        );
        for (const [k, e] of live) {
          expect((await call("GET", path(ns, k))).body).toMatchObject({ value: e.value, version: e.version });
        }
        // A last write marks the end of the stream, so an extra message would show as a mismatch.
        await call("PUT", path(ns, "end"), { value: "end" });
        model.set("end", "end");
        expect(await watcher.received(model.changes.length)).toEqual(model.changes);
        watcher.close();
      }),
      { numRuns: 100 },
    );
  });
});
