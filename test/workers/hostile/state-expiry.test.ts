/**
 * Issue 22, "60,000 keys of one namespace expiring together": expiry runs in steps of at most 1,000
 * keys on the alarm, re-armed for the rest, each step reading only the rows it removes, and a
 * request never does more than its own key's share. (How long a read waits is `npm run bench`'s
 * to measure: bench/hostile.ts.)
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPIRY_STEP } from "../../../durable-objects/state/object.ts";
import { EXPIRY_STEP_SQL } from "../../../durable-objects/state/store.ts";
import { call, unique } from "../helpers.ts";

const KEYS = 60_000;

/**
 * Writes `count` keys expiring at `expiresAt` straight into the object's table (set-up only: 60,000
 * PUTs would take minutes here), without touching the alarm.
 */
async function seedExpiring(ns: string, count: number, expiresAt: number): Promise<void> {
  await runInDurableObject(env.STATE.getByName(ns), async (_instance, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO state_keys (key, value, version, updated_at, expires_at)
       SELECT 'mass/' || i, '{"n":' || i || '}', 0, 0, ? FROM n`,
      count,
      expiresAt,
    );
  });
}

async function storedKeys(ns: string): Promise<number> {
  return runInDurableObject(env.STATE.getByName(ns), async (_instance, state) => {
    return state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM state_keys").one().n;
  });
}

/** Rows one expiry step at `now` reads and writes (run, then rolled back), and its query plan. */
async function stepCost(ns: string, now: number) {
  return runInDurableObject(env.STATE.getByName(ns), async (_instance, state) => {
    const sql = state.storage.sql;
    const version = sql.exec<{ v: number }>("SELECT version AS v FROM state_meta").one().v;
    const plan = sql
      .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${EXPIRY_STEP_SQL.log}`, version, now, EXPIRY_STEP)
      .toArray()
      .map((r) => r.detail)
      .join("; ");
    const cost = { expired: 0, deleted: 0, rowsTouched: 0 };
    try {
      state.storage.transactionSync(() => {
        const log = sql.exec(EXPIRY_STEP_SQL.log, version, now, EXPIRY_STEP);
        cost.expired = log.toArray().length;
        const keys = sql.exec(EXPIRY_STEP_SQL.keys, version);
        keys.toArray();
        cost.deleted = sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
        cost.rowsTouched = log.rowsRead + log.rowsWritten + keys.rowsRead + keys.rowsWritten;
        throw new Error("roll back");
      });
    } catch {
      // Rolled back on purpose: the step is only measured here.
    }
    return { ...cost, plan };
  });
}

describe("a mass expiry", () => {
  it("leaves reads and writes of other keys quick: expired keys read as absent, nothing purged in the request", async () => {
    const ns = unique("expiry");
    await call("PUT", `/v1/state/${ns}/other`, { value: "still here" });
    await seedExpiring(ns, KEYS, Date.now() - 1);

    // The old request path expired all 60,000 first; now a read and a write leave them to the alarm.
    expect((await call("GET", `/v1/state/${ns}/other`)).status).toBe(200);
    expect((await call("PUT", `/v1/state/${ns}/other`, { value: 2 })).status).toBe(200);
    expect(await storedKeys(ns)).toBe(KEYS + 1);

    expect((await call("GET", `/v1/state/${ns}/mass%2F7`)).status).toBe(404);
    const listed = await call("GET", `/v1/state/${ns}?prefix=mass/&limit=10`);
    expect(listed.body).toEqual({ items: [], cursor: null });
    // A write to an expired key expires it first, then sets it: one key's work, not the namespace's.
    expect((await call("PUT", `/v1/state/${ns}/mass%2F9`, { value: "new" })).status).toBe(200);
    expect(await storedKeys(ns)).toBe(KEYS + 1);
  });

  it("expires at most one step (<= 1,000) of keys per alarm ring and re-arms the alarm until none are due", async () => {
    const ns = unique("expiry");
    const stub = env.STATE.getByName(ns);
    const expiresAt = Date.now() + 3_600_000;
    await seedExpiring(ns, KEYS, expiresAt);
    // A write with the same expiry points the alarm at it, as the seeded keys' own writes would have.
    await call("PUT", `/v1/state/${ns}/other`, { value: 1 });
    await call("PUT", `/v1/state/${ns}/last`, { value: 1, ttlMs: 3_600_000 });

    let remaining = await storedKeys(ns);
    let rings = 0;
    while (remaining > 1) {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      rings += 1;
      const now = await storedKeys(ns);
      expect(remaining - now).toBeGreaterThan(0);
      expect(remaining - now).toBeLessThanOrEqual(EXPIRY_STEP);
      expect(EXPIRY_STEP).toBeLessThanOrEqual(1_000);
      remaining = now;
      const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
      if (remaining > 1) expect(alarm).not.toBeNull();
      expect((await call("GET", `/v1/state/${ns}/other`)).status).toBe(200);
    }
    // 60,001 expiring keys in steps of EXPIRY_STEP (the contract allows up to 1,000).
    expect(rings).toBe(Math.ceil((KEYS + 1) / EXPIRY_STEP));
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  }, 300_000);

  it("reads only the rows a step expires, through the expiry index, however many keys are due", async () => {
    const ns = unique("expiry");
    await call("PUT", `/v1/state/${ns}/other`, { value: 1 });
    const expiresAt = Date.now() + 3_600_000;
    await seedExpiring(ns, KEYS, expiresAt);

    const step = await stepCost(ns, expiresAt);
    expect(step.expired).toBe(EXPIRY_STEP);
    expect(step.deleted).toBe(EXPIRY_STEP);
    // A few rows per key expired (its index entries, its log row). The index on expires_at alone had
    // every step sort all 60,000 due keys by key: over 120,000 rows read for 100 expired.
    expect(step.rowsTouched).toBeLessThanOrEqual(20 * EXPIRY_STEP);
    expect(step.plan).toContain("COVERING INDEX state_keys_expiry");
    expect(step.plan).not.toContain("TEMP B-TREE");
  });
});
