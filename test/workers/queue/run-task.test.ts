/**
 * `POST /v1/queues/{queue}/run?waitMs=`: enqueue one task and wait for its end in one request. Each
 * run is parked in the real queue object (seen through `ends.size`) before a consumer takes the task,
 * so the answer is the wake, not a late read.
 */
import { describe, expect, it } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";
import { abandonWait, CLIENT_TRANSPORTS, lease, qpath, waiting, waitsIn } from "./queue-helpers.ts";

/** Leases the one ready task of `q` and acks it with `result`. */
async function consumeOne(q: string, result: unknown) {
  const [held] = await lease(q, { visibilityMs: 30_000 });
  if (!held) throw new Error(`${q}: nothing to lease`);
  await call("POST", qpath(q, `/tasks/${held.id}/ack`), { leaseId: held.leaseId, result });
  return held;
}

describe("running a task (enqueue, then wait for its end)", () => {
  it("answers the completed task with its result, in one request", async () => {
    const q = unique("run");
    const answer = call("POST", qpath(q, "/run"), { payload: { n: 2 } });
    await waiting(q, 1, "task ends");
    const held = await consumeOne(q, { square: 4 });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: held.id,
      state: "completed",
      payload: { n: 2 },
      result: { square: 4 },
    });
    expect(await waitsIn(q, "task ends")).toBe(0);
  });

  it("answers the task as it stands once waitMs has passed, whose id then serves to wait on", async () => {
    const q = unique("run");
    const started = Date.now();
    const res = await call("POST", qpath(q, "/run?waitMs=300"), { payload: "p", delayMs: 60_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: "delayed", attempt: 0 });
    expect(await waitsIn(q, "task ends")).toBe(0);
    const id = (res.body as { id: string }).id;
    expect((await call("POST", qpath(q, `/tasks/${id}/promote`))).status).toBe(200);
    const answer = call("GET", qpath(q, `/tasks/${id}?waitMs=20000`));
    await waiting(q, 1, "task ends");
    await consumeOne(q, "later");
    expect((await answer).body).toMatchObject({ id, state: "completed", result: "later" });
  });

  it("answers 409 with its id when a live task holds the dedup key, and makes a new task once it has ended", async () => {
    const q = unique("run");
    const first = call("POST", qpath(q, "/run"), { payload: 1, dedupKey: "invoice-7" });
    await waiting(q, 1, "task ends");
    const second = await call("POST", qpath(q, "/run"), { payload: 2, dedupKey: "invoice-7" });
    expectError(second, 409, "conflict");
    const held = await consumeOne(q, "once");
    expect(second.error?.details).toEqual({ id: held.id });
    expect((await first).body).toMatchObject({ id: held.id, state: "completed", result: "once" });
    // Ended, the task no longer holds its key: a run with it is a new task.
    const third = call("POST", qpath(q, "/run"), { payload: 3, dedupKey: "invoice-7" });
    await waiting(q, 1, "task ends");
    const next = await consumeOne(q, "twice");
    expect(next.id).not.toBe(held.id);
    expect((await third).body).toMatchObject({ id: next.id, state: "completed", result: "twice" });
  });

  it("answers 404 when the queue is deleted while the task waits", async () => {
    const q = unique("run");
    const answer = call("POST", qpath(q, "/run"), { payload: 1 });
    await waiting(q, 1, "task ends");
    await call("DELETE", qpath(q));
    expectError(await answer, 404, "not_found");
  });

  it("refuses what enqueue refuses, before making a task", async () => {
    const q = unique("run");
    expectInvalidField(await call("POST", qpath(q, "/run"), { payload: 1, priority: "urgent" }), "priority");
    // One task only: a batch goes to POST .../tasks.
    expectInvalidField(await call("POST", qpath(q, "/run"), { tasks: [{ payload: 1 }] }), "tasks");
    const big = await call("POST", qpath(q, "/run"), { payload: "x".repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.error?.code).toBe("payload_too_large");
    const stats = await call("GET", qpath(q, "/stats"));
    expect(stats.body).toMatchObject({ totals: { enqueued: 0 } });
  });

  it("lets a caller who goes away leave its wait at once, and keeps the task", async () => {
    const q = unique("run");
    await abandonWait(q, qpath(q, "/run"), { payload: "kept" });
    const [held] = await lease(q);
    expect(held?.payload).toBe("kept");
  });

  it.each(["20001", "-1", "soon"])("refuses waitMs=%s with 400", async (waitMs) => {
    const res = await call("POST", qpath(unique("run"), `/run?waitMs=${waitMs}`), { payload: 1 });
    expectInvalidField(res, "waitMs");
  });

  it("needs write on the queue, and no more", async () => {
    const q = unique("run");
    const writer = await scoped(`queues:${q}`, "write");
    const reader = await scoped(`queues:${q}`, "read", "consume");
    const ran = await call("POST", qpath(q, "/run?waitMs=0"), { payload: 1 }, { token: writer });
    expect(ran.status).toBe(200);
    const refused = await call("POST", qpath(q, "/run?waitMs=0"), { payload: 1 }, { token: reader });
    expectError(refused, 403, "forbidden");
  });
});

describe.each(CLIENT_TRANSPORTS)("the client's run() over %s", (_name, client) => {
  it("resolves with the completed task once a worker acks it", async () => {
    const queues = await client();
    const q = unique("run");
    const done = queues.run(q, { payload: "job" }, { timeoutMs: 30_000 });
    await waiting(q, 1, "task ends");
    const held = await consumeOne(q, { ok: true });
    expect(await done).toMatchObject({ id: held.id, state: "completed", result: { ok: true } });
  });

  it("resolves with the task as it stands once timeoutMs has passed", async () => {
    const queues = await client();
    const q = unique("run");
    expect(await queues.run(q, { payload: "job" }, { timeoutMs: 200 })).toMatchObject({ state: "ready" });
  });

  it("waits for the live task that holds the dedup key, as finished() does", async () => {
    const queues = await client();
    const q = unique("run");
    const first = queues.run(q, { payload: "job", dedupKey: "k" }, { timeoutMs: 30_000 });
    await waiting(q, 1, "task ends");
    const retry = queues.run(q, { payload: "job", dedupKey: "k" }, { timeoutMs: 30_000 });
    await waiting(q, 2, "task ends");
    const held = await consumeOne(q, 42);
    expect(await first).toMatchObject({ id: held.id, state: "completed", result: 42 });
    expect(await retry).toMatchObject({ id: held.id, state: "completed", result: 42 });
  });
});
