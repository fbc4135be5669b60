import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, stats } from "./queue-helpers.ts";
import { consumer } from "./stream-helpers.ts";

/** Resolves once a long poll waits in the queue's object. */
async function parked(q: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  const waiting = () =>
    runInDurableObject(
      queueStub(q),
      (instance) => (instance as unknown as { waiters: unknown[] }).waiters.length,
    );
  while ((await waiting()) === 0) {
    if (Date.now() > deadline) throw new Error("the long poll never reached the object");
    await scheduler.wait(10);
  }
}

describe("pause and resume", () => {
  it("are idempotent, work on a queue never used, take no body or {}, and persist", async () => {
    const q = unique("pause");
    expect(await call("POST", qpath(q, "/pause"))).toMatchObject({ status: 200, body: { paused: true } });
    expect(await call("POST", qpath(q, "/pause"), {})).toMatchObject({ status: 200, body: { paused: true } });
    expect((await stats(q)).paused).toBe(true);
    await evictDurableObject(queueStub(q));
    expect((await stats(q)).paused).toBe(true);
    expect(await call("POST", qpath(q, "/resume"))).toMatchObject({ status: 200, body: { paused: false } });
    expect(await call("POST", qpath(q, "/resume"))).toMatchObject({ status: 200, body: { paused: false } });
    expect((await stats(q)).paused).toBe(false);
    const bad = await call("POST", qpath(q, "/pause"), { paused: true });
    expect(bad.status).toBe(400);
    expect(bad.error?.details?.field).toBe("paused");
  });

  it("holds HTTP leases (long polls keep waiting) while enqueue works; resume serves the waiting poll", async () => {
    const q = unique("pause");
    await call("POST", qpath(q, "/pause"));
    const [id] = await enqueue(q, { payload: 1 });
    expect(await lease(q)).toEqual([]);
    const poll = call("POST", qpath(q, "/lease"), { waitMs: 10_000 });
    await parked(q);
    // The poll is parked: a second enqueue does not release it while paused.
    await enqueue(q, { payload: 2 });
    expect((await stats(q)).ready.normal).toBe(2);
    await call("POST", qpath(q, "/resume"));
    const res = await poll;
    expect(res.status).toBe(200);
    expect(res.body.tasks.map((t: { id: string }) => t.id)).toEqual([id]);
  });

  it("holds pushes to streaming consumers until resumed", async () => {
    const q = unique("pause");
    await call("POST", qpath(q, "/pause"));
    const c = await consumer(q, { prefetch: 10 });
    await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
    expect((await stats(q)).leased).toBe(0);
    expect(c.pushed).toHaveLength(0);
    await call("POST", qpath(q, "/resume"));
    await c.until(() => c.held.size === 2, "pushes after resume");
    await call("POST", qpath(q, "/pause"));
    // Acks still work while paused; nothing new is pushed.
    expect((await c.ack()).results.every((r) => r.ok)).toBe(true);
    await enqueue(q, { payload: 3 });
    expect((await stats(q)).leased).toBe(0);
    expect(c.pushed).toHaveLength(2);
    c.close();
  });
});

describe("DELETE /v1/queues/{queue}", () => {
  it("removes every task, the counters and the paused flag; polls answer empty; sockets close", async () => {
    const q = unique("del");
    const [leased] = await enqueue(q, { payload: "leased" });
    const taken = await lease(q);
    expect(taken).toHaveLength(1);
    await enqueue(q, { tasks: [{ payload: "delayed", delayMs: 60_000 }] });
    const [done] = await enqueue(q, { payload: "done" });
    const [t] = await lease(q);
    await call("POST", qpath(q, `/tasks/${t?.id}/ack`), { leaseId: t?.leaseId });
    await enqueue(q, { payload: "keyed", dedupKey: "k" });
    await call("POST", qpath(q, "/pause"));
    const c = await consumer(q);
    const poll = call("POST", qpath(q, "/lease"), { waitMs: 10_000 });
    await parked(q);

    const res = await call("DELETE", qpath(q));
    expect(res).toMatchObject({ status: 200, body: { deleted: true } });
    expect((await c.closed).code).toBe(1000);
    expect((await poll).body).toEqual({ tasks: [] });
    for (const id of [leased, done]) {
      expect((await call("GET", qpath(q, `/tasks/${id}`))).status).toBe(404);
    }
    expect(
      (await call("POST", qpath(q, `/tasks/${leased}/ack`), { leaseId: taken[0]?.leaseId })).status,
    ).toBe(404);
    expect(await stats(q)).toEqual({
      ready: { low: 0, normal: 0, high: 0, critical: 0 },
      delayed: 0,
      leased: 0,
      completed: 0,
      dead: 0,
      waiting: 0,
      totals: { enqueued: 0, completed: 0, retried: 0, dead: 0, recovered: 0 },
      oldestReadyAgeMs: 0,
      paused: false,
    });
    // Used again at once: fresh, the dedup key free, and no old id reused.
    const [again] = await enqueue(q, { payload: "new", dedupKey: "k" });
    expect(Number(again)).toBeGreaterThan(Number(done));
    expect(await lease(q)).toHaveLength(1);
  });

  it("answers 200 for a queue that holds nothing, and needs admin on the queue", async () => {
    const q = unique("del");
    expect(await call("DELETE", qpath(q))).toMatchObject({ status: 200, body: { deleted: true } });
    expect((await call("DELETE", qpath(q), undefined, { token: null })).status).toBe(401);
    expect((await call("DELETE", qpath("bad name!"))).status).toBe(400);
  });
});
