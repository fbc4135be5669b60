/**
 * Issue 22, "60,000 keys of one namespace expiring together": expiry runs in steps of at most 1,000
 * keys on the alarm, re-armed for the rest, and a request never does more than its own key's share.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPIRY_STEP } from "../../../durable-objects/state/object.ts";
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

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

describe("a mass expiry", () => {
  it("leaves reads and writes of other keys quick: expired keys read as absent, nothing purged in the request", async () => {
    const ns = unique("expiry");
    await call("PUT", `/v1/state/${ns}/other`, { value: "still here" });
    await seedExpiring(ns, KEYS, Date.now() - 1);

    const read = await timed(() => call("GET", `/v1/state/${ns}/other`));
    expect(read.value.status).toBe(200);
    // The old request path expired all 60,000 first: seconds, not milliseconds.
    expect(read.ms).toBeLessThan(250);
    const write = await timed(() => call("PUT", `/v1/state/${ns}/other`, { value: 2 }));
    expect(write.value.status).toBe(200);
    expect(write.ms).toBeLessThan(250);

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
    let slowestRead = 0;
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
      const read = await timed(() => call("GET", `/v1/state/${ns}/other`));
      expect(read.value.status).toBe(200);
      slowestRead = Math.max(slowestRead, read.ms);
    }
    // 60,001 expiring keys in steps of EXPIRY_STEP (the contract allows up to 1,000).
    expect(rings).toBe(Math.ceil((KEYS + 1) / EXPIRY_STEP));
    expect(slowestRead).toBeLessThan(250);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  }, 300_000);
});
