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

/**
 * Parks a long poll of `body` in the queue object, runs `wake`, and resolves to the tasks the poll
 * got and what `wake` returned; the answer must come well before the poll's `waitMs`.
 */
async function wokenBy<T>(q: string, body: Record<string, unknown>, wake: () => Promise<T>) {
  const poll = longPoll(q, body);
  await waiting(q, 1);
  const woken = await wake();
  const { tasks, tookMs } = await poll;
  expect(tookMs).toBeLessThan(5_000);
  return { tasks, woken };
}

describe("long-poll lease", () => {
  it("is answered by a concurrent enqueue well before waitMs", async () => {
    const q = unique("poll");
    const { tasks, woken: ids } = await wokenBy(q, { waitMs: 20_000, max: 5 }, () =>
      enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] }),
    );
    expect(tasks.map((t) => t.id)).toEqual(ids);
  });

  it("is answered by a promote of a delayed task", async () => {
    const q = unique("poll");
    const [id] = await enqueue(q, { payload: 1, delayMs: 600_000 });
    const { tasks, woken: promoted } = await wokenBy(q, { waitMs: 20_000 }, () =>
      call("POST", qpath(q, `/tasks/${id}/promote`)),
    );
    expect(promoted.status).toBe(200);
    expect(tasks.map((t) => t.id)).toEqual([id]);
  });

  it("is answered when a delay ends, a nack returns a task, or a lease expires", async () => {
    const q = unique("poll");
    const [id] = await enqueue(q, { payload: 1, delayMs: 600_000 });
    const alarm = () => runDurableObjectAlarm(queueStub(q));
    const afterDelay = await wokenBy(q, { waitMs: 20_000 }, alarm);
    expect(afterDelay.woken).toBe(true);
    const [t] = afterDelay.tasks;
    expect(t?.id).toBe(id);

    const afterNack = await wokenBy(q, { waitMs: 20_000, visibilityMs: 1_000 }, () =>
      call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId: t?.leaseId, delayMs: 0 }),
    );
    expect(afterNack.tasks[0]?.id).toBe(id);

    const afterExpiry = await wokenBy(q, { waitMs: 20_000 }, alarm);
    expect(afterExpiry.woken).toBe(true);
    expect(afterExpiry.tasks[0]?.id).toBe(id);
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
