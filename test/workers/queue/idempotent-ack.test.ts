import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub } from "./queue-helpers.ts";

const ack = (q: string, id: string, body: unknown) => call("POST", qpath(q, `/tasks/${id}/ack`), body);

describe("an ack retried after its answer was lost", () => {
  it("answers completed again for the lease that completed the task, and keeps the first result", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: 1 });
    const [t] = await lease(q);
    const leaseId = t?.leaseId as string;
    expect((await ack(q, id as string, { leaseId, result: "first" })).body).toEqual({
      id,
      state: "completed",
    });
    const again = await ack(q, id as string, { leaseId, result: "second" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id, state: "completed" });
    const task = (await call("GET", qpath(q, `/tasks/${id}`))).body;
    expect(task).toMatchObject({ state: "completed", result: "first" });
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    expect(stats).toMatchObject({ completed: 1, totals: { completed: 1 } });
  });

  it("still refuses another lease id, and a nack or extend of the spent lease", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: 1 });
    const [t] = await lease(q);
    await ack(q, id as string, { leaseId: t?.leaseId });
    const other = await ack(q, id as string, { leaseId: `${t?.leaseId}x` });
    expectError(other, 409, "lease_mismatch");
    const nack = await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId: t?.leaseId });
    expect(nack.status).toBe(409);
    const extend = await call("POST", qpath(q, `/tasks/${id}/extend`), {
      leaseId: t?.leaseId,
      visibilityMs: 60_000,
    });
    expect(extend.status).toBe(409);
  });

  it("answers ok in a batch for acks already applied, beside new and refused ones", async () => {
    const q = unique("q");
    await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }, { payload: 3 }] });
    const [a, b, c] = await lease(q, { max: 3 });
    const first = await call("POST", qpath(q, "/ack"), { acks: [{ id: a?.id, leaseId: a?.leaseId }] });
    expect(first.body.results).toEqual([{ id: a?.id, ok: true }]);
    // The retry of that batch, plus a new ack and one with a wrong lease.
    const retry = await call("POST", qpath(q, "/ack"), {
      acks: [
        { id: a?.id, leaseId: a?.leaseId },
        { id: b?.id, leaseId: b?.leaseId },
        { id: c?.id, leaseId: a?.leaseId },
      ],
    });
    expect(retry.body.results).toEqual([
      { id: a?.id, ok: true },
      { id: b?.id, ok: true },
      { id: c?.id, ok: false, code: "lease_mismatch" },
    ]);
    // A single ack retried as part of a batch holds too, and the reverse.
    expect((await ack(q, b?.id as string, { leaseId: b?.leaseId })).status).toBe(200);
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    expect(stats).toMatchObject({ completed: 2, leased: 1, totals: { completed: 2 } });
  });

  it("answers not_found once retention has removed the completed task", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: 1 });
    const [t] = await lease(q);
    await ack(q, id as string, { leaseId: t?.leaseId });
    // The first ring (the lease's expiry) re-aims at the retention time; the second removes the task.
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect((await ack(q, id as string, { leaseId: t?.leaseId })).status).toBe(200);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const gone = await ack(q, id as string, { leaseId: t?.leaseId });
    expect(gone.status).toBe(404);
  });
});
