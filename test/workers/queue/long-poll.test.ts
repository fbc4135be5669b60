import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, waiting } from "./queue-helpers.ts";

/** Starts a long poll; resolves to the tasks and how long the answer took. */
function longPoll(q: string, body: Record<string, unknown>) {
  const started = Date.now();
  return call("POST", qpath(q, "/lease"), body).then((res) => ({
    tasks: res.body.tasks as Array<{ id: string; leaseId: string }>,
    tookMs: Date.now() - started,
  }));
}

describe("long-poll lease", () => {
  it("is answered by a concurrent enqueue well before waitMs", async () => {
    const q = unique("poll");
    const poll = longPoll(q, { waitMs: 20_000, max: 5 });
    await waiting(q, 1);
    const ids = await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
    const { tasks, tookMs } = await poll;
    expect(tasks.map((t) => t.id)).toEqual(ids);
    expect(tookMs).toBeLessThan(5_000);
  });

  it("is answered by a promote of a delayed task", async () => {
    const q = unique("poll");
    const [id] = await enqueue(q, { payload: 1, delayMs: 600_000 });
    const poll = longPoll(q, { waitMs: 20_000 });
    await waiting(q, 1);
    expect((await call("POST", qpath(q, `/tasks/${id}/promote`))).status).toBe(200);
    const { tasks, tookMs } = await poll;
    expect(tasks.map((t) => t.id)).toEqual([id]);
    expect(tookMs).toBeLessThan(5_000);
  });

  it("is answered when a delay ends, a nack returns a task, or a lease expires", async () => {
    const q = unique("poll");
    const [id] = await enqueue(q, { payload: 1, delayMs: 600_000 });
    const afterDelay = longPoll(q, { waitMs: 20_000 });
    await waiting(q, 1);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const [t] = (await afterDelay).tasks;
    expect(t?.id).toBe(id);

    const afterNack = longPoll(q, { waitMs: 20_000, visibilityMs: 1_000 });
    await waiting(q, 1);
    await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId: t?.leaseId, delayMs: 0 });
    expect((await afterNack).tasks[0]?.id).toBe(id);

    const afterExpiry = longPoll(q, { waitMs: 20_000 });
    await waiting(q, 1);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const expired = await afterExpiry;
    expect(expired.tasks[0]?.id).toBe(id);
    expect(expired.tookMs).toBeLessThan(5_000);
  });

  it("serves waiters first come first served and answers the rest empty after waitMs", async () => {
    const q = unique("poll");
    const first = longPoll(q, { waitMs: 10_000 });
    await waiting(q, 1);
    const second = longPoll(q, { waitMs: 300 });
    await waiting(q, 2);
    const [id] = await enqueue(q, { payload: 1 });
    expect((await first).tasks.map((t) => t.id)).toEqual([id]);
    const late = await second;
    expect(late.tasks).toEqual([]);
    expect(late.tookMs).toBeGreaterThanOrEqual(250);
    expect(await lease(q)).toEqual([]);
  });
});
