/**
 * `GET /v1/queues/{queue}/tasks/{id}?waitMs=`: task info once the task has ended. Each wait is
 * parked in the real queue object (seen through `ends.size`) before the call that ends it, so a
 * wake that never comes fails the test instead of passing on a late read.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TaskEnds } from "../../../durable-objects/queue/task-ends.ts";
import { QueueClient } from "../../../shared/client/queue.ts";
import { fail } from "../../../shared/errors.ts";
import { call, expectInvalidField, unique } from "../helpers.ts";
import {
  abandonWait,
  CLIENT_TRANSPORTS,
  clientOverHttp,
  enqueue,
  lease,
  qpath,
  queueStub,
  waiting,
  waitsIn,
} from "./queue-helpers.ts";

/** Asks for `id`'s info with `waitMs`; resolves to the answer and how long it took. */
function waitFor(q: string, id: string, waitMs: number) {
  const started = Date.now();
  return call("GET", qpath(q, `/tasks/${id}?waitMs=${waitMs}`)).then((res) => ({
    res,
    tookMs: Date.now() - started,
  }));
}

/** Parks a wait for `id` in the object, runs `end`, and answers what the wait got. */
async function endedBy(q: string, id: string, end: () => Promise<unknown>) {
  const answer = waitFor(q, id, 20_000);
  await waiting(q, 1, "task ends");
  await end();
  const { res, tookMs } = await answer;
  expect(tookMs).toBeLessThan(10_000);
  return res;
}

/** A fresh queue with one task, leased. */
async function oneLeased(task: Record<string, unknown> = {}) {
  const q = unique("wait");
  const [id] = (await enqueue(q, { payload: "p", ...task })) as [string];
  const [held] = await lease(q, { visibilityMs: 30_000 });
  return { q, id, leaseId: held?.leaseId as string };
}

describe("waiting for a task to end", () => {
  it("answers completed, with the result, the moment it is acked", async () => {
    const { q, id, leaseId } = await oneLeased();
    const res = await endedBy(q, id, () =>
      call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId, result: 42 }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, state: "completed", result: 42 });
  });

  it("answers dead on a nack that does not retry, and waits on through one that does", async () => {
    const { q, id, leaseId } = await oneLeased({ maxAttempts: 3 });
    const answer = waitFor(q, id, 20_000);
    await waiting(q, 1, "task ends");
    await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId, delayMs: 0 });
    const [again] = await lease(q, { visibilityMs: 30_000 });
    // The retry ended a lease, not the task: woken, the wait read the task and waits on (had it
    // answered then, it would say "ready" on attempt 1).
    await waiting(q, 1, "task ends");
    await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId: again?.leaseId, retry: false, error: "no" });
    const { res } = await answer;
    expect(res.body).toMatchObject({ id, state: "dead", lastError: "no", attempt: 2 });
  });

  it("answers dead when the lease of the last attempt expires", async () => {
    const { q, id } = await oneLeased({ maxAttempts: 1 });
    // The alarm is aimed at the lease's expiry; rung early, it takes that instant as now.
    const res = await endedBy(q, id, () => runDurableObjectAlarm(queueStub(q)));
    expect(res.body).toMatchObject({ id, state: "dead" });
  });

  it("answers a flow's parent dead when a child fails it", async () => {
    const q = unique("wait");
    const created = await call("POST", qpath(q, "/flows"), {
      parent: { payload: "p" },
      children: [{ payload: 1, maxAttempts: 1 }],
    });
    const parent = created.body as { id: string };
    const [child] = await lease(q);
    const res = await endedBy(q, parent.id, () =>
      call("POST", qpath(q, `/tasks/${child?.id}/nack`), { leaseId: child?.leaseId, error: "boom" }),
    );
    expect(res.body).toMatchObject({ id: parent.id, state: "dead" });
  });

  it("answers 404 when the queue is deleted meanwhile", async () => {
    const { q, id } = await oneLeased();
    const res = await endedBy(q, id, () => call("DELETE", qpath(q)));
    expect(res.status).toBe(404);
    expect(res.error?.code).toBe("not_found");
  });

  it("answers the task as it stands after waitMs, and an ended or unknown task at once", async () => {
    const { q, id, leaseId } = await oneLeased();
    const late = await waitFor(q, id, 300);
    expect(late.res.body).toMatchObject({ id, state: "leased" });
    expect(late.tookMs).toBeGreaterThanOrEqual(250);
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId });
    const ended = await waitFor(q, id, 20_000);
    expect(ended.res.body).toMatchObject({ id, state: "completed" });
    expect(ended.tookMs).toBeLessThan(10_000);
    const unknown = await waitFor(q, "99999", 20_000);
    expect(unknown.res.status).toBe(404);
    expect(await waitsIn(q, "task ends")).toBe(0);
  });

  it("answers at once, as the task stands, once the queue holds as many waits as it may", async () => {
    const { q, id, leaseId } = await oneLeased();
    await runInDurableObject(queueStub(q), (instance) => {
      const o = instance as unknown as { ends: TaskEnds<unknown>; clock: unknown };
      Object.assign(o, { ends: new TaskEnds<unknown>(() => o.clock as never, 1) });
    });
    const first = waitFor(q, id, 20_000);
    await waiting(q, 1, "task ends");
    const second = await waitFor(q, id, 20_000);
    expect(second.res.body).toMatchObject({ id, state: "leased" });
    expect(second.tookMs).toBeLessThan(10_000);
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId });
    expect((await first).res.body).toMatchObject({ state: "completed" });
  });

  it("lets a caller who goes away leave its wait at once", async () => {
    const { q, id } = await oneLeased();
    await abandonWait(q, qpath(q, `/tasks/${id}?waitMs=20000`));
  });

  it.each(["20001", "-1", "soon", "1.5"])("refuses waitMs=%s with 400", async (waitMs) => {
    const { q, id } = await oneLeased();
    const res = await call("GET", qpath(q, `/tasks/${id}?waitMs=${waitMs}`));
    expectInvalidField(res, "waitMs");
  });
});

describe.each(CLIENT_TRANSPORTS)("the client's finished() over %s", (_name, client) => {
  it("resolves with the completed task once a worker acks it", async () => {
    const queues = await client();
    const { q, id, leaseId } = await oneLeased();
    const done = queues.finished(q, id, { timeoutMs: 30_000 });
    await waiting(q, 1, "task ends");
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId, result: { ok: true } });
    expect(await done).toMatchObject({ id, state: "completed", result: { ok: true } });
  });

  it("resolves with the task as it stands once timeoutMs has passed", async () => {
    const queues = await client();
    const { q, id } = await oneLeased();
    expect(await queues.finished(q, id, { timeoutMs: 200 })).toMatchObject({ id, state: "leased" });
  });
});

describe("the client's finished() on failures", () => {
  it("asks again after a poll cut short by a restart of the object, and throws not_found", async () => {
    const { q, id, leaseId } = await oneLeased();
    const real = clientOverHttp().transport;
    // A poll cut short by an object reset (a deploy) cannot be caused here: the transport fakes one
    // answered `internal`, then one whose RPC call rejects.
    const cuts = [
      () => Promise.resolve(fail("internal", "object reset")),
      () => Promise.reject(new Error("Durable Object reset because its code was updated")),
    ];
    const queues = new QueueClient({
      ...real,
      task: (...args) => cuts.shift()?.() ?? real.task(...args),
    });
    const done = queues.finished(q, id, { timeoutMs: 30_000 });
    await waiting(q, 1, "task ends");
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId });
    expect(await done).toMatchObject({ id, state: "completed" });
    expect(cuts).toEqual([]);
    await expect(queues.finished(q, "99999")).rejects.toMatchObject({ code: "not_found" });
  });
});
