import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../../durable-objects/logic/queue-rules.ts";
import { DEFAULT_RETENTION_MS } from "../../../durable-objects/queue/config.ts";
import type { QueueObject } from "../../../durable-objects/queue/object.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, stats } from "./queue-helpers.ts";

const info = async (q: string, id: string) => (await call("GET", qpath(q, `/tasks/${id}`))).body;

describe("retries", () => {
  it("backs off exponentially with jitter, dead-letters after maxAttempts, and redrives", async () => {
    const q = unique("retry");
    const [id] = await enqueue(q, { payload: "job", maxAttempts: 5 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      // A nacked task is not leasable until its delay ends; the alarm ends it.
      if (attempt > 1) {
        expect(await lease(q)).toEqual([]);
        expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
      }
      const [t] = await lease(q);
      expect(t).toMatchObject({ id, attempt });
      const before = Date.now();
      const res = await call("POST", qpath(q, `/tasks/${id}/nack`), {
        leaseId: t?.leaseId,
        error: `fail ${attempt}`,
      });
      if (attempt === 5) {
        expect(res.body).toEqual({ id, state: "dead" });
        break;
      }
      expect(res.body.state).toBe("delayed");
      // Equal jitter: retry n waits between half and all of initial × 2^(n-1).
      const base = DEFAULT_RETRY_POLICY.initialDelayMs * 2 ** (attempt - 1);
      // A delayed task's answer names its next attempt.
      const next = res.body.nextAttemptAt;
      if (next === undefined) throw new Error(`no nextAttemptAt: ${res.text}`);
      expect(next - before).toBeGreaterThanOrEqual(base / 2 - (Date.now() - before));
      expect(next - before).toBeLessThanOrEqual(base);
      delays.push(next - before);
    }
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number);
    expect(await info(q, id as string)).toMatchObject({ state: "dead", attempt: 5, lastError: "fail 5" });
    expect(await stats(q)).toMatchObject({ dead: 1, totals: { retried: 4, dead: 1 } });

    const redriven = await call("POST", qpath(q, "/dead/redrive"), { ids: [id] });
    expect(redriven.body).toEqual({ redriven: 1 });
    expect(await info(q, id as string)).toMatchObject({ state: "ready", attempt: 0 });
    const [again] = await lease(q);
    expect(again).toMatchObject({ id, attempt: 1 });
  });

  it("gives a redriven task's dedup key up when a live task took it meanwhile", async () => {
    const q = unique("retry");
    const [first] = await enqueue(q, { payload: 1, dedupKey: "k", maxAttempts: 1 });
    const [t] = await lease(q);
    await call("POST", qpath(q, `/tasks/${first}/nack`), { leaseId: t?.leaseId });
    const [second] = await enqueue(q, { payload: 2, dedupKey: "k" });
    expect(second).not.toBe(first);
    expect((await call("POST", qpath(q, "/dead/redrive"))).body).toEqual({ redriven: 1 });
    expect(await info(q, first as string)).not.toHaveProperty("dedupKey");
    expect(await info(q, second as string)).toMatchObject({ dedupKey: "k" });
  });
});

describe("stale-task recovery and the alarm", () => {
  it("returns an expired lease's task to ready with nobody calling, and refuses the old lease", async () => {
    const q = unique("stale");
    const [id] = await enqueue(q, { payload: 1, maxAttempts: 2 });
    const [t] = await lease(q, { visibilityMs: 1_000 });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await stats(q)).toMatchObject({ ready: { normal: 1 }, leased: 0, totals: { recovered: 1 } });
    const late = await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: t?.leaseId });
    expect(late.status).toBe(409);
    // The second and last attempt expires too: the task goes to the dead-letter queue.
    const [t2] = await lease(q, { visibilityMs: 1_000 });
    expect(t2).toMatchObject({ id, attempt: 2 });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await stats(q)).toMatchObject({ dead: 1, totals: { recovered: 2, dead: 1 } });
    expect((await info(q, id as string)).lastError).toMatch(/lease expired/);
  });

  it("makes a delayed task ready at its time, by the alarm", async () => {
    const q = unique("delay");
    const [id] = await enqueue(q, { payload: 1, delayMs: 3_600_000 });
    expect(await lease(q)).toEqual([]);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect((await lease(q))[0]?.id).toBe(id);
  });

  it("sets a fresh alarm after a restart that follows a spent one", async () => {
    const q = unique("restart");
    await enqueue(q, { payload: 1, delayMs: 1_000 });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    await evictDurableObject(queueStub(q));
    const [later] = await enqueue(q, { payload: 2, delayMs: 5_000 });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await info(q, later as string)).toMatchObject({ state: "ready" });
  });

  it("removes completed tasks after the retention time, and the alarm is idempotent", async () => {
    const q = unique("retain");
    const [id] = await enqueue(q, { payload: 1 });
    const [t] = await lease(q);
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: t?.leaseId });
    // The alarm still points at the lease's expiry: that run finds nothing due and re-aims.
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect((await info(q, id as string)).state).toBe("completed");
    const alarmAt = await runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm());
    expect(alarmAt).toBeGreaterThanOrEqual(Date.now() + DEFAULT_RETENTION_MS - 5_000);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect((await call("GET", qpath(q, `/tasks/${id}`))).status).toBe(404);
    const after = await stats(q);
    expect(after).toMatchObject({ completed: 0, totals: { completed: 1 } });
    // A repeated alarm (alarms are at least once) finds nothing to do.
    await runInDurableObject(queueStub(q), (instance: QueueObject) => instance.alarm());
    expect(await stats(q)).toEqual(after);
    expect(await runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("brings the alarm forward to the retention time when a long lease is acked early", async () => {
    const q = unique("retain-long-lease");
    const [id] = await enqueue(q, { payload: 1 });
    const [t] = await lease(q, { visibilityMs: 43_200_000 });
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: t?.leaseId });
    // Not the lease's expiry 12 hours away: the completed task is removed after one hour.
    const alarmAt = await runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm());
    expect(alarmAt).toBeLessThanOrEqual(Date.now() + DEFAULT_RETENTION_MS);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect((await call("GET", qpath(q, `/tasks/${id}`))).status).toBe(404);
  });
});
