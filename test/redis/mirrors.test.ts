/**
 * State mirrors into a real Redis through the gateway: backfill, every kind of change, TTLs,
 * versions that never go back, outages and lost answers, prefix changes, deletion, and a property
 * over random operation sequences.
 */
import { env, runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  APPLY_CHANGES,
  applyChanges,
  bookkeepingKey,
  type MirrorChange,
} from "../../durable-objects/state/mirror.ts";
import { call, unique } from "../workers/helpers.ts";
import { command, faults, healthy, redis, until } from "./helpers.ts";

const stub = (ns: string) => env.STATE.getByName(ns);
const enc = (key: string) => encodeURIComponent(key);

async function put(ns: string, key: string, value: unknown, ttlMs?: number): Promise<number> {
  const res = await call(
    "PUT",
    `/v1/state/${ns}/${enc(key)}`,
    ttlMs === undefined ? { value } : { value, ttlMs },
  );
  expect(res.status, res.text).toBe(200);
  return res.body.version;
}

async function mirror(ns: string, prefix: string) {
  const res = await call("PUT", `/v1/mirrors/state/${ns}`, { redis: { prefix } });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Waits, driving the alarm, until the mirror has caught up; answers its status. */
async function caughtUp(ns: string) {
  return until(
    async () => {
      const res = await call("GET", `/v1/mirrors/state/${ns}`);
      expect(res.status, res.text).toBe(200);
      return res.body.mirroredVersion === res.body.namespaceVersion ? res.body : undefined;
    },
    () => runDurableObjectAlarm(stub(ns)),
  );
}

/** The mirrored document at `key`, parsed, or null. */
async function mirrored(key: string): Promise<{ value: unknown; version: number; updatedAt: number } | null> {
  const text = (await redis().get(key)) as string | null;
  return text === null ? null : JSON.parse(text);
}

afterEach(() => healthy());

describe("state mirrors", () => {
  it("copy the live keys first, then every change: put, increment, txn, delete, expiry", async () => {
    const ns = unique("redistest-m-changes");
    const prefix = `${ns}:`;
    const v1 = await put(ns, "a", { n: 1 });
    await put(ns, "gone", 1);
    await call("DELETE", `/v1/state/${ns}/gone`);
    const v3 = await put(ns, "ttl", "soon", 60_000);
    const status = await mirror(ns, prefix);
    expect(status).toMatchObject({ namespace: ns, redis: { prefix }, namespaceVersion: 4 });
    await caughtUp(ns);
    expect(await mirrored(`${prefix}a`)).toMatchObject({ value: { n: 1 }, version: v1 });
    expect(await mirrored(`${prefix}gone`)).toBeNull();
    const entry = await call("GET", `/v1/state/${ns}/ttl`);
    expect(await command("PEXPIRETIME", `${prefix}ttl`)).toBe(entry.body.expiresAt);
    expect((await mirrored(`${prefix}ttl`))?.version).toBe(v3);

    const inc = await call("POST", `/v1/state/${ns}/counter/increment`, { by: 5 });
    const txn = await call("POST", `/v1/state/${ns}/txn`, {
      success: [
        { op: "put", key: "t1", value: [1] },
        { op: "delete", key: "a" },
      ],
    });
    expect(txn.status, txn.text).toBe(200);
    // Expire "ttl" by running the alarm past its expiry.
    await call("PUT", `/v1/state/${ns}/short`, { value: 1, ttlMs: 1 });
    await until(
      async () => (await call("GET", `/v1/state/${ns}/short`)).status === 404,
      () => runDurableObjectAlarm(stub(ns)),
    );
    const done = await caughtUp(ns);
    expect(await mirrored(`${prefix}counter`)).toMatchObject({ value: 5, version: inc.body.version });
    expect(await mirrored(`${prefix}t1`)).toMatchObject({ value: [1] });
    expect(await mirrored(`${prefix}a`)).toBeNull();
    expect(await mirrored(`${prefix}short`)).toBeNull();
    // The bookkeeping hash keeps the version of every change applied, deletes and expiries included.
    expect(Number(await command("HGET", bookkeepingKey(ns), `${prefix}a`))).toBe(txn.body.version);
    expect(Number(await command("HGET", bookkeepingKey(ns), `${prefix}short`))).toBe(done.namespaceVersion);
    // Only the mirrored keys and the bookkeeping hash.
    const keys = ((await redis().keys(`${prefix}*`)) as string[]).sort();
    expect(keys).toEqual([`${prefix}counter`, `${prefix}t1`, `${prefix}ttl`]);
  });

  it("never move a key back: a late retry of an older change is refused by version", async () => {
    const ns = unique("redistest-m-order");
    const prefix = `${ns}:`;
    await mirror(ns, prefix);
    await put(ns, "k", "old");
    const newer = await put(ns, "k", "new");
    await call("DELETE", `/v1/state/${ns}/gone-later`);
    await caughtUp(ns);
    const script = redis().createScript(APPLY_CHANGES);
    const late: MirrorChange[] = [
      { key: "k", version: newer - 1, op: "set", value: '"old"', updatedAt: 1, expiresAt: null },
      { key: "k", version: newer - 1, op: "delete", value: null, updatedAt: null, expiresAt: null },
    ];
    expect(await applyChanges(script, ns, prefix, late)).toBe(0);
    expect(await mirrored(`${prefix}k`)).toMatchObject({ value: "new", version: newer });
    // A delete is recorded too: an older set cannot bring the key back.
    const deleted = await call("DELETE", `/v1/state/${ns}/k`);
    expect(deleted.status).toBe(200);
    await caughtUp(ns);
    expect(await applyChanges(script, ns, prefix, [late[0] as MirrorChange])).toBe(0);
    expect(await mirrored(`${prefix}k`)).toBeNull();
  });

  it("catch up after Redis was down, and after answers were lost, without the writer waiting", async () => {
    const ns = unique("redistest-m-outage");
    const prefix = `${ns}:`;
    await mirror(ns, prefix);
    await caughtUp(ns);
    await faults({ down: true });
    for (let i = 0; i < 20; i++) await put(ns, `k${i % 5}`, i);
    const behind = await until(async () => {
      const s = (await call("GET", `/v1/mirrors/state/${ns}`)).body;
      return s.lastError ? s : undefined;
    });
    expect(behind.mirroredVersion).toBeLessThan(behind.namespaceVersion);
    expect(behind.lastError).toMatch(/Redis/);
    expect(behind.lastErrorAt).toBeGreaterThan(0);
    await faults({ down: false, dropAnswers: 3, dropCommand: "evalsha" });
    for (let i = 20; i < 30; i++) await put(ns, `k${i % 5}`, i);
    await caughtUp(ns);
    for (let k = 0; k < 5; k++) {
      const entry = (await call("GET", `/v1/state/${ns}/k${k}`)).body;
      expect(await mirrored(`${prefix}k${k}`)).toEqual({
        value: entry.value,
        version: entry.version,
        updatedAt: entry.updatedAt,
      });
    }
  });

  it("copy again under a new prefix, keep the old keys, and stop on delete", async () => {
    const ns = unique("redistest-m-prefix");
    await put(ns, "x", 1);
    const first = await mirror(ns, `${ns}:one:`);
    expect(await mirror(ns, `${ns}:one:`)).toEqual({ ...first, mirroredVersion: expect.any(Number) });
    await caughtUp(ns);
    await mirror(ns, `${ns}:two:`);
    await caughtUp(ns);
    expect((await mirrored(`${ns}:one:x`))?.value).toBe(1);
    expect((await mirrored(`${ns}:two:x`))?.value).toBe(1);
    const del = await call("DELETE", `/v1/mirrors/state/${ns}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ deleted: true });
    await put(ns, "x", 2);
    expect((await call("GET", `/v1/mirrors/state/${ns}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/mirrors/state/${ns}`)).status).toBe(404);
    expect((await mirrored(`${ns}:two:x`))?.value).toBe(1);
  });

  it("refuse bad bodies and names", async () => {
    const ns = unique("redistest-m-bad");
    for (const [body, field] of [
      [{}, "redis"],
      [{ redis: {} }, "redis.prefix"],
      [{ redis: { prefix: "p", bogus: 1 } }, "redis.bogus"],
      [{ redis: { prefix: "p".repeat(257) } }, "redis.prefix"],
      [{ redis: { prefix: 5 } }, "redis.prefix"],
    ] as const) {
      const res = await call("PUT", `/v1/mirrors/state/${ns}`, body);
      expect(res.status, res.text).toBe(400);
      expect(res.error?.details?.field).toBe(field);
    }
    expect((await call("PUT", "/v1/mirrors/state/-bad", { redis: { prefix: "" } })).status).toBe(400);
    expect((await call("GET", `/v1/mirrors/state/${ns}`)).status).toBe(404);
  });

  it("hold exactly the namespace's live keys at their latest versions after random operations", async () => {
    const KEYS = ["a", "b", "c", "d/e"];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        key: fc.constantFrom(...KEYS),
        value: fc.integer(),
        ttl: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.constantFrom(...KEYS) }),
      fc.record({ kind: fc.constant("increment" as const), key: fc.constantFrom(...KEYS) }),
      fc.record({ kind: fc.constant("fault" as const), down: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.boolean(),
        async (ops, mirrorFirst) => {
          const ns = unique("redistest-m-prop");
          const prefix = `${ns}:`;
          if (mirrorFirst) await mirror(ns, prefix);
          for (const o of ops) {
            if (o.kind === "put") await put(ns, o.key, o.value, o.ttl ? 3_600_000 : undefined);
            else if (o.kind === "delete") await call("DELETE", `/v1/state/${ns}/${enc(o.key)}`);
            else if (o.kind === "increment")
              await call("POST", `/v1/state/${ns}/${enc(o.key)}/increment`, {});
            else await faults({ down: o.down });
          }
          await healthy();
          if (!mirrorFirst) await mirror(ns, prefix);
          await caughtUp(ns);
          const live = (await call("GET", `/v1/state/${ns}?limit=1000`)).body.items as {
            key: string;
            version: number;
          }[];
          const inRedis = ((await redis().keys(`${prefix}*`)) as string[]).sort();
          expect(inRedis).toEqual(live.map((i) => `${prefix}${i.key}`).sort());
          for (const item of live) {
            expect((await mirrored(`${prefix}${item.key}`))?.version).toBe(item.version);
          }
        },
      ),
      { numRuns: 8 },
    );
  });
});
