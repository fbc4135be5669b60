/**
 * A batch of flows on the flow route (`{"flows": [...]}`), through the Worker and real queue
 * objects: one transaction in the parent queue, each parent readied once with its own children's
 * results (children here or in other queues), all or nothing, at most 1,000 tasks in all, each
 * parent's dedup key on its own, `write` needed on every child queue of every flow, and the same
 * over RPC and the typed client.
 */
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { FlowPeer } from "../../../durable-objects/queue/flows.ts";
import type { FlowCreatedOutput } from "../../../shared/schemas/queue-flow.ts";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { mint } from "../tokens/helpers.ts";
import { batchOfFlows, CLIENT_TRANSPORTS, enqueue, lease, qpath, queueStub, stats } from "./queue-helpers.ts";

const post = (queue: string, body: unknown, token?: string) =>
  call("POST", qpath(queue, "/flows"), body, token === undefined ? {} : { token });

/** Posts `{flows}` and returns the answers per flow; fails the test on anything but 201. */
async function batch(queue: string, flows: unknown[]): Promise<FlowCreatedOutput[]> {
  const res = await post(queue, { flows });
  expect(res.status, res.text).toBe(201);
  return batchOfFlows(res.body);
}

/** A flow whose parent is `{p: i}` and whose children are `{p: i, c: j}`, in `queues[j]` (absent: the flow's). */
const numbered = (i: number, queues: Array<string | undefined>) => ({
  parent: { payload: { p: i } },
  children: queues.map((queue, c) => ({ payload: { p: i, c }, ...(queue ? { queue } : {}) })),
});

/** Leases everything ready in `queue` and acks each with `{done: payload}`; returns how many. */
async function workAll(queue: string): Promise<number> {
  const tasks = await lease(queue, { max: 1000 });
  if (tasks.length === 0) return 0;
  const acks = tasks.map((t) => ({ id: t.id, leaseId: t.leaseId, result: { done: t.payload } }));
  const res = await call("POST", qpath(queue, "/ack"), { acks });
  expect(res.status, res.text).toBe(200);
  return tasks.length;
}

/** The totals every queue shows: what was enqueued, what waits, what is ready. */
const counts = async (queue: string) => {
  const s = await stats(queue);
  return { enqueued: s.totals.enqueued, waiting: s.waiting };
};

describe("a batch of flows", () => {
  it("creates every flow in the parent queue in one request and readies each parent once with its own results", async () => {
    const q = unique("fb");
    const flows = Array.from({ length: 5 }, (_, i) => numbered(i, [undefined, undefined, undefined]));
    const created = await batch(q, flows);
    expect(created).toHaveLength(5);
    for (const flow of created) {
      expect(flow).toEqual({
        id: expect.any(String),
        children: Array(3).fill({ queue: q, id: expect.any(String) }),
      });
    }
    expect(await stats(q)).toMatchObject({ waiting: 5, ready: { normal: 15 }, totals: { enqueued: 20 } });

    expect(await workAll(q)).toBe(15);
    const parents = await lease(q, { max: 1000 });
    expect(parents.map((t) => t.id).sort()).toEqual(created.map((f) => f.id).sort());
    for (const parent of parents) {
      const flow = created.find((f) => f.id === parent.id) as FlowCreatedOutput;
      const i = (parent.payload as { p: number }).p;
      expect(parent.childResults).toEqual(
        flow.children.map((child, c) => ({
          queue: q,
          id: child.id,
          state: "completed",
          result: { done: { p: i, c } },
        })),
      );
    }
    expect(await lease(q, { max: 1000 })).toEqual([]);
  });

  it("creates children in other queues through the outbox and readies each parent once", async () => {
    const [q, a, b] = [unique("fb"), unique("fb-a"), unique("fb-b")];
    const flows = [
      numbered(0, [a, undefined, b]),
      numbered(1, [b, b]),
      {
        parent: { payload: { p: 2 } },
        children: [{ queue: a, payload: { p: 2, c: 0 }, children: [{ queue: b, payload: "leaf" }] }],
      },
    ];
    const created = await batch(q, flows);
    expect(created.map((f) => f.children.map((c) => c.queue))).toEqual([[a, q, b], [b, b], [a]]);
    expect(created.flatMap((f) => f.children).every((c) => typeof c.id === "string")).toBe(true);
    expect(created[2]?.children[0]?.children).toEqual([{ queue: b, id: expect.any(String) }]);
    expect(await counts(q)).toEqual({ enqueued: 4, waiting: 3 });

    // Work every queue until nothing moves: each parent must come exactly once.
    const leased = new Map<string, number>();
    for (let quiet = 0; quiet < 2; ) {
      let moved = 0;
      for (const queue of [a, b]) moved += await workAll(queue);
      const parents = await lease(q, { max: 1000 });
      for (const t of parents) {
        leased.set(t.id, (leased.get(t.id) ?? 0) + 1);
        if (!created.some((f) => f.id === t.id)) {
          // The child of flow 0 in the parent's own queue.
          await call("POST", qpath(q, `/tasks/${t.id}/ack`), {
            leaseId: t.leaseId,
            result: { done: t.payload },
          });
          continue;
        }
        const flow = created.find((f) => f.id === t.id) as FlowCreatedOutput;
        expect(t.childResults?.map((r) => [r.queue, r.id, r.state])).toEqual(
          flow.children.map((c) => [c.queue, c.id, "completed"]),
        );
      }
      moved += parents.length;
      quiet = moved === 0 ? quiet + 1 : 0;
    }
    for (const flow of created) expect(leased.get(flow.id), `parent ${flow.id}`).toBe(1);
    for (const queue of [q, a, b]) expect((await stats(queue)).waiting, queue).toBe(0);
  });

  it("sends a batch's creations for another queue in one call and answers every child's id", async () => {
    const [q, other] = [unique("fb"), unique("fb-o")];
    const calls: number[] = [];
    await runInDurableObject(queueStub(q), (instance) => {
      const self = instance as unknown as { peer(queue: string): FlowPeer };
      const real = self.peer.bind(instance);
      const counted = (queue: string): FlowPeer => ({
        flowCreateAll: (creations) => {
          calls.push(creations.length);
          return real(queue).flowCreateAll(creations);
        },
        flowEnded: (ends) => real(queue).flowEnded(ends),
      });
      Object.assign(instance, { peer: counted });
    });
    const created = await batch(
      q,
      Array.from({ length: 90 }, (_, i) => numbered(i, Array(10).fill(other))),
    );
    expect(calls).toEqual([900]);
    const children = created.flatMap((f) => f.children);
    expect(children.filter((c) => c.queue === other && typeof c.id === "string")).toHaveLength(900);
    expect(await counts(other)).toEqual({ enqueued: 900, waiting: 0 });
  });

  it("answers one flow as before, not as a batch", async () => {
    const q = unique("fb");
    const res = await post(q, numbered(0, [undefined]));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), children: [{ queue: q, id: expect.any(String) }] });
  });
});

describe("a batch is all or nothing", () => {
  it("refuses a batch with one bad flow with 400 naming it, and creates nothing", async () => {
    const [q, other] = [unique("fb"), unique("fb-o")];
    const flows = [
      numbered(0, [other]),
      numbered(1, [undefined]),
      { parent: { payload: 2 }, children: [{}] },
    ];
    expectInvalidField(await post(q, { flows }), "flows.2.children.0.payload");
    const deep = [
      numbered(0, [other]),
      { parent: { payload: 1 }, children: [{ payload: 1, delayMs: 5, children: [{ payload: 2 }] }] },
    ];
    expectInvalidField(await post(q, { flows: deep }), "flows.1.children.0.delayMs");
    expectInvalidField(
      await post(q, { flows: [numbered(0, [other]), { children: [{ payload: 1 }] }] }),
      "flows.1.parent",
    );
    expectInvalidField(await post(q, { flows: [numbered(0, [other])], extra: 1 }), "extra");
    expectInvalidField(await post(q, { flows: [] }), "flows");
    for (const queue of [q, other]) expect(await counts(queue)).toEqual({ enqueued: 0, waiting: 0 });
  });

  it("refuses a payload over 256 KiB with 413 naming it within the batch, and creates nothing", async () => {
    const [q, other] = [unique("fb"), unique("fb-o")];
    const big = "x".repeat(300_000);
    const child = await post(q, {
      flows: [numbered(0, [other]), { parent: { payload: 1 }, children: [{ payload: 1 }, { payload: big }] }],
    });
    expect(child.status).toBe(413);
    expect(child.error?.details?.field).toBe("flows.1.children.1.payload");
    const parent = await post(q, {
      flows: [numbered(0, [other]), { parent: { payload: big }, children: [{ payload: 1 }] }],
    });
    expect(parent.error?.details?.field).toBe("flows.1.parent.payload");
    for (const queue of [q, other]) expect(await counts(queue)).toEqual({ enqueued: 0, waiting: 0 });
  });

  it("takes 1,000 tasks across the batch and refuses 1,001", async () => {
    const q = unique("fb");
    const tens = Array.from({ length: 100 }, (_, i) => numbered(i, Array(9).fill(undefined)));
    expect(await batch(q, tens)).toHaveLength(100);
    expect(await counts(q)).toEqual({ enqueued: 1000, waiting: 100 });

    // 99 of those and one of 11 tasks: 1,001.
    const r = unique("fb");
    const tooMany = [...tens.slice(1), numbered(99, Array(10).fill(undefined))];
    const res = await post(r, { flows: tooMany });
    expectError(res, 400, "invalid_request");
    expect(res.error?.details?.field).toBe("flows");
    expect(res.error?.message).toMatch(/1000 tasks/);
    expect(await counts(r)).toEqual({ enqueued: 0, waiting: 0 });
  });
});

describe("dedup keys in a batch", () => {
  it("answers the live holder of a parent's key for that flow alone", async () => {
    const q = unique("fb");
    const [held] = await enqueue(q, { payload: "live", dedupKey: "k1" });
    const created = await batch(q, [
      { ...numbered(0, [undefined]), parent: { payload: 0, dedupKey: "k1" } },
      { ...numbered(1, [undefined]), parent: { payload: 1, dedupKey: "k2" } },
    ]);
    expect(created[0]).toEqual({ id: held, children: [], deduplicated: true });
    expect(created[1]).toMatchObject({ id: expect.any(String), children: [{ queue: q }] });
    expect(created[1]).not.toHaveProperty("deduplicated");
    expect(await counts(q)).toEqual({ enqueued: 3, waiting: 1 });
  });

  it("lets the first of two parents with one key in a batch hold it, as a batch enqueue does", async () => {
    const q = unique("fb");
    const created = await batch(q, [
      { ...numbered(0, [undefined, undefined]), parent: { payload: 0, dedupKey: "same" } },
      { ...numbered(1, [undefined]), parent: { payload: 1, dedupKey: "same" } },
    ]);
    const first = created[0] as FlowCreatedOutput;
    expect(first.children).toHaveLength(2);
    expect(created[1]).toEqual({ id: first.id, children: [], deduplicated: true });
    expect(await counts(q)).toEqual({ enqueued: 3, waiting: 1 });
    // The enqueue batch does the same with two tasks of one key: the second answers the first's id.
    const ids = await enqueue(unique("fb"), {
      tasks: [
        { payload: 1, dedupKey: "d" },
        { payload: 2, dedupKey: "d" },
      ],
    });
    expect(ids[1]).toBe(ids[0]);
  });
});

describe("access to a batch's child queues", () => {
  it("needs write on every child queue of every flow, over HTTP and RPC", async () => {
    const q = unique("fbw");
    const { token } = await mint({ scopes: [{ resource: `queues:${q}*`, actions: ["write"] }] });
    const mine = [numbered(0, [`${q}-x`]), numbered(1, [undefined, `${q}-y`])];
    const theirs = [
      numbered(0, [`${q}-x`]),
      { parent: { payload: 1 }, children: [{ payload: 2, children: [{ queue: "elsewhere", payload: 3 }] }] },
    ];
    const allowed = await post(q, { flows: mine }, token);
    expect(allowed.status, allowed.text).toBe(201);
    expectError(await post(q, { flows: theirs }, token), 403, "forbidden");

    const rpc = await exports.SwitchyardRpc.queues({ token });
    expect(await rpc.flow(q, { flows: theirs })).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const answer = await rpc.flow(q, { flows: mine });
    expect(answer.ok && "flows" in answer.value && answer.value.flows.length).toBe(2);
    // The refused batches created nothing: two allowed batches of two flows each.
    expect(await counts(q)).toEqual({ enqueued: 6, waiting: 4 });
  });
});

describe.each(CLIENT_TRANSPORTS)("the typed client over %s", (_name, client) => {
  it("sends a batch with flows() and one flow with flow()", async () => {
    const queues = await client();
    const [q, other] = [unique("fbc"), unique("fbc-o")];
    const created = await queues.flows(q, [numbered(0, [other]), numbered(1, [undefined, undefined])]);
    expect(created.map((f) => f.children.length)).toEqual([1, 2]);
    expect(created[0]?.children[0]).toEqual({ queue: other, id: expect.any(String) });
    expect((await queues.task(q, (created[1] as FlowCreatedOutput).id)).state).toBe("waiting");
    const one = await queues.flow(q, numbered(2, [undefined]));
    expect(one).toEqual({ id: expect.any(String), children: [{ queue: q, id: expect.any(String) }] });
    await expect(queues.flows(q, [])).rejects.toMatchObject({ code: "invalid_request" });
  });
});
