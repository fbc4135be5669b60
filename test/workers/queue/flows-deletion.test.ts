/**
 * Deleting a queue that takes part in flows: its unfinished children reach their parents in
 * other queues as dead children (the parent follows its policy), through the deleted queue's
 * outbox, which alone survives the deletion and drains across restarts; a deleted parent's
 * children elsewhere finish normally and their ends are dropped, not retried for ever.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { childId, cutOff, lease, oneFlow, qpath, queueStub, restart, storedTasks } from "./queue-helpers.ts";

const flow = async (queue: string, body: unknown) => {
  const res = await call("POST", qpath(queue, "/flows"), body);
  expect(res.status, res.text).toBe(201);
  return oneFlow(res.body);
};
const info = async (q: string, id: string) => (await call("GET", qpath(q, `/tasks/${id}`))).body;
const deleteQueue = async (q: string) => expect((await call("DELETE", qpath(q))).status).toBe(200);

/** The rows waiting in the queue's flow outbox. */
const outbox = (q: string) =>
  runInDurableObject(
    queueStub(q),
    (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM flow_outbox").one().n,
  );

/** Leases every ready task of `queue` and acks each with `{done: payload}`; returns the payloads. */
async function work(queue: string): Promise<unknown[]> {
  const tasks = await lease(queue, { max: 100 });
  for (const t of tasks) {
    const res = await call("POST", qpath(queue, `/tasks/${t.id}/ack`), {
      leaseId: t.leaseId,
      result: { done: t.payload },
    });
    expect(res.status, res.text).toBe(200);
  }
  return tasks.map((t) => t.payload);
}

describe("deleting a queue that holds unfinished flow children", () => {
  it("fails their parents elsewhere under `fail`, naming the deleted queue, on up the tree", async () => {
    const [q, a, b] = [unique("fd"), unique("fd-a"), unique("fd-b")];
    const { id, children } = await flow(q, {
      parent: { payload: "root" },
      children: [
        { payload: "here" },
        { queue: b, payload: "mid", children: [{ queue: a, payload: "leaf" }] },
      ],
    });
    const mid = children[1];
    const leaf = mid?.children?.[0];
    // Leased is as unfinished as ready.
    expect(await lease(a)).toHaveLength(1);

    await deleteQueue(a);
    const why = `child ${a}/${leaf?.id} is dead: queue ${a} was deleted`;
    expect(await info(b, childId(mid))).toMatchObject({ state: "dead", lastError: why });
    expect(await info(q, id)).toMatchObject({
      state: "dead",
      lastError: `child ${b}/${mid?.id} is dead: ${why}`,
    });
    // The sibling still runs; its end changes nothing.
    expect(await work(q)).toEqual(["here"]);
    expect((await info(q, id)).state).toBe("dead");
    for (const queue of [q, a, b]) expect(await outbox(queue), queue).toBe(0);
    expect(await storedTasks(a)).toEqual([]);
  });

  it("lets a parent under `ignore` go on without the deleted child", async () => {
    const [q, a] = [unique("fd"), unique("fd-a")];
    const { id, children } = await flow(q, {
      parent: { payload: "p" },
      onChildFailure: "ignore",
      children: [{ queue: a, payload: 1 }, { payload: 2 }],
    });
    await deleteQueue(a);
    expect(await work(q)).toEqual([2]);
    const [parent] = await lease(q);
    expect(parent).toMatchObject({ id, payload: "p" });
    expect(parent?.childResults).toEqual([
      { queue: a, id: children[0]?.id, state: "dead", error: `queue ${a} was deleted` },
      { queue: q, id: children[1]?.id, state: "completed", result: { done: 2 } },
    ]);
  });

  it("keeps only the outbox: ends written before and by the deletion reach the parent after a restart", async () => {
    const [q, a] = [unique("fd"), unique("fd-a")];
    const { id } = await flow(q, {
      parent: { payload: "p" },
      onChildFailure: "ignore",
      children: [
        { queue: a, payload: "done" },
        { queue: a, payload: "cut short" },
      ],
    });
    // The first child completes while `a` cannot reach `q`: its end waits in a's outbox.
    await cutOff(a);
    const done = (await lease(a, { max: 2 })).find((t) => t.payload === "done");
    const acked = await call("POST", qpath(a, `/tasks/${done?.id}/ack`), {
      leaseId: done?.leaseId,
      result: 1,
    });
    expect(acked.status).toBe(200);
    // The deletion cannot deliver either: both ends stay, with the alarm aimed at their retry.
    await deleteQueue(a);
    expect(await storedTasks(a)).toEqual([]);
    expect(await outbox(a)).toBe(2);
    expect((await info(q, id)).state).toBe("waiting");

    await restart(a);
    // Each ring sends what is due by its time; the two rows' retries may fall apart.
    for (let rings = 0; rings < 3 && (await outbox(a)) > 0; rings++) {
      expect(await runDurableObjectAlarm(queueStub(a))).toBe(true);
    }
    expect(await outbox(a)).toBe(0);
    const [parent] = await lease(q);
    expect(parent?.childResults).toEqual([
      { queue: a, id: done?.id, state: "completed", result: 1 },
      { queue: a, id: expect.any(String), state: "dead", error: `queue ${a} was deleted` },
    ]);
  });
});

describe("deleting a parent's queue", () => {
  it("deletes its children there at once; those elsewhere finish, their ends acknowledged and dropped", async () => {
    const [q, b] = [unique("fd"), unique("fd-b")];
    await flow(q, {
      parent: { payload: "p" },
      children: [{ payload: "here" }, { queue: b, payload: "there" }],
    });
    await deleteQueue(q);
    expect(await outbox(q)).toBe(0);
    expect(await storedTasks(q)).toEqual([]);
    // The child in b still runs; its ack answers once q (empty now) has taken its end, which
    // changes nothing there and is not sent again.
    expect(await work(b)).toEqual(["there"]);
    expect(await outbox(b)).toBe(0);
    expect(await storedTasks(q)).toEqual([]);
  });

  it("drops creations not yet delivered: no child appears later", async () => {
    const [q, b] = [unique("fd"), unique("fd-b")];
    await cutOff(q);
    const { children } = await flow(q, { parent: { payload: "p" }, children: [{ queue: b, payload: 1 }] });
    expect(children).toEqual([{ queue: b, id: null }]);
    await deleteQueue(q);
    expect(await outbox(q)).toBe(0);
    await restart(q);
    // Nothing left to retry: no alarm is set.
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(false);
    expect(await storedTasks(b)).toEqual([]);
  });
});
