/** `DELETE /v1/queues/{queue}/tasks/{id}`: a producer takes back a task that has not started. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";
import {
  CLIENT_TRANSPORTS,
  enqueue,
  lease,
  qpath,
  queueStub,
  stats,
  storedTasks,
  waiting,
} from "./queue-helpers.ts";

const remove = (q: string, id: string, token?: string) =>
  call("DELETE", qpath(q, `/tasks/${id}`), undefined, token === undefined ? {} : { token });

describe("deleting a task", () => {
  it("takes a ready task and a delayed one out for good: not leased, not counted, dedup key free", async () => {
    const q = unique("del");
    const [ready, delayed, kept] = await enqueue(q, {
      tasks: [{ payload: "a", dedupKey: "order-1" }, { payload: "b", delayMs: 60_000 }, { payload: "c" }],
    });
    for (const id of [ready, delayed] as string[]) {
      const res = await remove(q, id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id, deleted: true });
      expectError(await call("GET", qpath(q, `/tasks/${id}`)), 404, "not_found");
    }
    expect(await stats(q)).toMatchObject({ ready: { normal: 1 }, delayed: 0 });
    // The delayed task's alarm finds nothing to wake.
    await runDurableObjectAlarm(queueStub(q));
    expect((await lease(q, { max: 10 })).map((t) => t.id)).toEqual([kept]);
    expect((await storedTasks(q)).map((t) => t.seq)).toEqual([Number(kept)]);
    const [again] = await enqueue(q, { payload: "a2", dedupKey: "order-1" });
    expect(again).not.toBe(ready);
  });

  it("refuses a task that is leased, ended or waiting, with its state", async () => {
    const q = unique("del");
    const [leased, done] = await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
    const held = await lease(q, { max: 2 });
    const second = held.find((t) => t.id === done);
    await call("POST", qpath(q, `/tasks/${done}/ack`), { leaseId: second?.leaseId });
    for (const [id, state] of [
      [leased, "leased"],
      [done, "completed"],
    ] as const) {
      const res = await remove(q, id as string);
      expectError(res, 409, "conflict");
      expect(res.error?.details).toMatchObject({ id, state });
    }
    const flow = await call("POST", qpath(q, "/flows"), {
      parent: { payload: "p" },
      children: [{ payload: 3 }],
    });
    const parent = (flow.body as { id: string }).id;
    expect((await remove(q, parent)).error?.details).toMatchObject({ state: "waiting" });
    expectError(await remove(q, "99999"), 404, "not_found");
  });

  it("answers a wait for the task's end with 404", async () => {
    const q = unique("del");
    const [id] = (await enqueue(q, { payload: 1, delayMs: 60_000 })) as [string];
    const wait = call("GET", qpath(q, `/tasks/${id}?waitMs=20000`));
    await waiting(q, 1, "task ends");
    expect((await remove(q, id)).status).toBe(200);
    expectError(await wait, 404, "not_found");
  });

  it("needs admin on the queue: a producer's token may not delete others' tasks by their ids", async () => {
    const q = unique("del");
    const [a, b] = (await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] })) as [string, string];
    expectError(
      await remove(q, a, await scoped(`queues:${q}`, "read", "write", "consume")),
      403,
      "forbidden",
    );
    expect((await remove(q, b, await scoped(`queues:${q}`, "admin"))).status).toBe(200);
  });

  it("ends a flow child for its parent as dead: `fail` fails the parent, `ignore` lets it run", async () => {
    const q = unique("del");
    const flow = async (body: Record<string, unknown>) =>
      (await call("POST", qpath(q, "/flows"), body)).body as { id: string; children: Array<{ id: string }> };
    const failing = await flow({
      parent: { payload: "p" },
      children: [{ payload: 1, delayMs: 60_000 }, { payload: 2 }],
    });
    const [doomed, sibling] = failing.children.map((c) => c.id) as [string, string];
    expect((await remove(q, doomed)).body).toEqual({ id: doomed, deleted: true });
    expect((await call("GET", qpath(q, `/tasks/${failing.id}`))).body).toMatchObject({
      state: "dead",
      lastError: `child ${q}/${doomed} is dead: deleted before it ran`,
    });
    // The parent no longer waits: its other child may go too.
    expect((await remove(q, sibling)).status).toBe(200);

    const lenient = await flow({
      parent: { payload: "p" },
      onChildFailure: "ignore",
      children: [{ payload: 3 }],
    });
    const [only] = lenient.children.map((c) => c.id) as [string];
    expect((await remove(q, only)).status).toBe(200);
    const [released] = await lease(q);
    expect(released).toMatchObject({
      id: lenient.id,
      childResults: [{ id: only, state: "dead", error: "deleted before it ran" }],
    });
  });

  it("tells a parent in another queue before it answers", async () => {
    const parents = unique("del-parents");
    const children = unique("del-children");
    const created = await call("POST", qpath(parents, "/flows"), {
      parent: { payload: "p" },
      children: [{ queue: children, payload: 1 }],
    });
    const { id, children: kids } = created.body as { id: string; children: Array<{ id: string }> };
    const child = kids[0]?.id as string;
    expect((await remove(children, child)).status).toBe(200);
    expect((await call("GET", qpath(parents, `/tasks/${id}`))).body).toMatchObject({
      state: "dead",
      lastError: `child ${children}/${child} is dead: deleted before it ran`,
    });
  });
});

describe.each(CLIENT_TRANSPORTS)("the client's deleteTask() over %s", (_name, client) => {
  it("deletes a delayed task, and throws conflict for a leased one", async () => {
    const queues = await client();
    const q = unique("del");
    const [later, now] = (await enqueue(q, { tasks: [{ payload: 1, delayMs: 60_000 }, { payload: 2 }] })) as [
      string,
      string,
    ];
    await queues.deleteTask(q, later);
    await lease(q);
    await expect(queues.deleteTask(q, now)).rejects.toMatchObject({ code: "conflict" });
    expect(await stats(q)).toMatchObject({ delayed: 0, leased: 1 });
  });
});
