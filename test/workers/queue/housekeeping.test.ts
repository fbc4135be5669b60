import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ObjectAlarm } from "../../../durable-objects/lib/alarm.ts";
import type { QueueObject } from "../../../durable-objects/queue/object.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub } from "./queue-helpers.ts";

/** Enqueues `n` tasks in batches of 1,000; returns their ids. */
async function many(q: string, n: number, task: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let from = 0; from < n; from += 1000) {
    const size = Math.min(1000, n - from);
    ids.push(
      ...(await enqueue(q, {
        tasks: Array.from({ length: size }, (_, i) => ({ payload: from + i, ...task })),
      })),
    );
  }
  return ids;
}

/** Leases `n` tasks for a minute, 1,000 at a time. */
async function leaseAll(q: string, n: number): Promise<void> {
  for (let taken = 0; taken < n; ) taken += (await lease(q, { max: 1000, visibilityMs: 60_000 })).length;
}

/** How many stored tasks are in each state. */
function counts(q: string): Promise<Record<string, number>> {
  return runInDurableObject(queueStub(q), (_i, state) =>
    Object.fromEntries(
      state.storage.sql
        .exec<{ state: string; n: number }>("SELECT state, count(*) AS n FROM tasks GROUP BY state")
        .toArray()
        .map((r) => [r.state, r.n]),
    ),
  );
}

/**
 * Makes every leased task expire, and every delayed task fall due, at the instant the alarm is set
 * for (a minute ahead of the wall clock): all at once, and nothing rings before the test drives it.
 */
function allDueAtTheAlarm(q: string): Promise<number> {
  return runInDurableObject(queueStub(q), async (_i, state) => {
    const at = (await state.storage.getAlarm()) as number;
    state.storage.sql.exec("UPDATE tasks SET lease_expires_at = ? WHERE state = 'leased'", at);
    state.storage.sql.exec("UPDATE tasks SET available_at = ? WHERE state = 'delayed'", at);
    return at;
  });
}

const alarmOf = (q: string) => runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm());

describe("housekeeping runs in steps of at most 1,000 tasks", () => {
  it("recovers 2,500 leases expiring at once over three alarm rings, re-armed in between", async () => {
    const q = unique("hk");
    await many(q, 2500);
    await leaseAll(q, 2500);
    const at = await allDueAtTheAlarm(q);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await counts(q)).toEqual({ ready: 1000, leased: 1500 });
    // Re-armed for the rest at once (the instant it was due, the one the alarm ran as).
    expect(await alarmOf(q)).toBe(at);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await counts(q)).toEqual({ ready: 2000, leased: 500 });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await counts(q)).toEqual({ ready: 2500 });
    expect(await alarmOf(q)).toBeNull();
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    expect(stats).toMatchObject({ leased: 0, ready: { normal: 2500 }, totals: { recovered: 2500 } });
  }, 60_000);

  it("counts every kind of work against one step: 600 expiries and 600 promotions take two rings", async () => {
    const q = unique("hk");
    await many(q, 600);
    await leaseAll(q, 600);
    await many(q, 600, { delayMs: 600_000 });
    await allDueAtTheAlarm(q);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const after = await counts(q);
    // The old step moved up to 1,000 of each kind: all 1,200 in one ring.
    expect(after.ready).toBe(1000);
    expect((after.leased ?? 0) + (after.delayed ?? 0)).toBe(200);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await counts(q)).toEqual({ ready: 1200 });
  }, 60_000);

  it("makes a request that finds work due wait for one step only", async () => {
    const q = unique("hk");
    await many(q, 2500);
    await leaseAll(q, 2500);
    const moved = await runInDurableObject(queueStub(q), async (instance: QueueObject, state) => {
      // Everything expired a second ago and the alarm is late: the next request settles what is due.
      const past = Date.now() - 1_000;
      state.storage.sql.exec("UPDATE tasks SET lease_expires_at = ? WHERE state = 'leased'", past);
      (instance as unknown as { alarmTime: ObjectAlarm }).alarmTime.restore(past);
      const stats = await instance.stats();
      return { leased: stats.leased, ready: stats.ready.normal };
    });
    expect(moved).toEqual({ leased: 1500, ready: 1000 });
  }, 60_000);
});
