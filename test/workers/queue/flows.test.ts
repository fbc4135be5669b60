/**
 * Flows through the Worker and real queue objects: a parent waits until its children (in its
 * queue or others, nested) have ended, then is leased with their results; a dead child fails it
 * or is ignored as the flow says; bad bodies are refused with 4xx.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";
import { mint } from "../tokens/helpers.ts";
import { childId, clientOverRpc, enqueue, lease, oneFlow, qpath, stats } from "./queue-helpers.ts";

/** Posts one flow; the answer's body typed as one flow's. */
const flow = async (queue: string, body: unknown) => {
  const res = await call("POST", qpath(queue, "/flows"), body);
  return { ...res, body: oneFlow(res.body) };
};
const info = async (q: string, id: string) => (await call("GET", qpath(q, `/tasks/${id}`))).body;

/** Leases every ready task of `queue` and acks each with `result(payload)`; returns the payloads. */
async function work(queue: string, result: (payload: unknown) => unknown = (p) => ({ done: p })) {
  const tasks = await lease(queue, { max: 1000 });
  for (const t of tasks) {
    const res = await call("POST", qpath(queue, `/tasks/${t.id}/ack`), {
      leaseId: t.leaseId,
      result: result(t.payload),
    });
    expect(res.status, res.text).toBe(200);
  }
  return tasks.map((t) => t.payload);
}

describe("flows in one queue", () => {
  it("keeps the parent waiting until every child completed, then leases it once with their results", async () => {
    const q = unique("flow");
    const res = await flow(q, { parent: { payload: "merge" }, children: [{ payload: 1 }, { payload: 2 }] });
    expect(res.status, res.text).toBe(201);
    const { id, children } = res.body;
    expect(children).toEqual([
      { queue: q, id: expect.any(String) },
      { queue: q, id: expect.any(String) },
    ]);
    expect(await info(q, id)).toMatchObject({ state: "waiting", payload: "merge" });
    expect(await stats(q)).toMatchObject({ waiting: 1, ready: { normal: 2 } });
    const listed = await call("GET", qpath(q, "/tasks?state=waiting"));
    expect(listed.body.tasks.map((t: { id: string }) => t.id)).toEqual([id]);

    // One child done: the parent still waits and is not leased.
    const first = (await lease(q, { max: 1 }))[0];
    await call("POST", qpath(q, `/tasks/${first?.id}/ack`), { leaseId: first?.leaseId, result: "one" });
    expect((await info(q, id)).state).toBe("waiting");
    const rest = await lease(q, { max: 10 });
    expect(rest.map((t) => t.id)).toEqual([children[1]?.id]);
    await call("POST", qpath(q, `/tasks/${rest[0]?.id}/ack`), { leaseId: rest[0]?.leaseId });
    expect(await info(q, id)).toMatchObject({ state: "ready" });
    expect(await stats(q)).toMatchObject({ waiting: 0, ready: { normal: 1 }, totals: { enqueued: 3 } });
  });

  it("hands the parent its children's results in the children's order", async () => {
    const q = unique("flow");
    const { id, children } = (
      await flow(q, { parent: { payload: "p" }, children: [{ payload: 1 }, { payload: 2 }] })
    ).body;
    expect(await work(q)).toEqual([1, 2]);
    const [parent] = await lease(q);
    expect(parent).toMatchObject({
      id,
      payload: "p",
      childResults: [
        { queue: q, id: children[0]?.id, state: "completed", result: { done: 1 } },
        { queue: q, id: children[1]?.id, state: "completed", result: { done: 2 } },
      ],
    });
    expect(await lease(q)).toEqual([]);
    expect(await info(q, id)).toMatchObject({ state: "leased", childResults: expect.any(Array) });
    expect(await stats(q)).toMatchObject({ waiting: 0, leased: 1, completed: 2 });
  });

  it("nests: a child with children waits for them, and its parent for it", async () => {
    const q = unique("flow");
    const body = {
      parent: { payload: "root" },
      children: [
        { payload: "mid", children: [{ payload: "leaf1" }, { payload: "leaf2" }] },
        { payload: "side" },
      ],
    };
    const { id, children } = (await flow(q, body)).body;
    expect(children[0]?.children).toHaveLength(2);
    expect((await work(q)).sort()).toEqual(["leaf1", "leaf2", "side"]);
    expect(await work(q)).toEqual(["mid"]);
    const [root] = await lease(q);
    expect(root).toMatchObject({ id, payload: "root" });
    expect(root?.childResults?.map((c) => c.result)).toEqual([{ done: "mid" }, { done: "side" }]);
  });
});

describe("a dead child", () => {
  it("fails the parent under `fail` (the default), naming the child", async () => {
    const q = unique("flow");
    const { id, children } = (
      await flow(q, { parent: { payload: "p" }, children: [{ payload: 1, maxAttempts: 1 }, { payload: 2 }] })
    ).body;
    const tasks = await lease(q, { max: 10 });
    const doomed = tasks.find((t) => t.id === children[0]?.id);
    await call("POST", qpath(q, `/tasks/${doomed?.id}/nack`), { leaseId: doomed?.leaseId, error: "boom" });
    expect(await info(q, id)).toMatchObject({
      state: "dead",
      lastError: `child ${q}/${children[0]?.id} is dead: boom`,
    });
    // The other child still completes; the dead parent stays dead.
    const other = tasks.find((t) => t.id === children[1]?.id);
    await call("POST", qpath(q, `/tasks/${other?.id}/ack`), { leaseId: other?.leaseId });
    expect((await info(q, id)).state).toBe("dead");
    expect(await stats(q)).toMatchObject({ waiting: 0, dead: 2, completed: 1 });
  });

  it("counts as done without a result under `ignore`", async () => {
    const q = unique("flow");
    const { id } = (
      await flow(q, {
        parent: { payload: "p" },
        onChildFailure: "ignore",
        children: [{ payload: 1, maxAttempts: 1 }, { payload: 2 }],
      })
    ).body;
    const tasks = await lease(q, { max: 10 });
    await call("POST", qpath(q, `/tasks/${tasks[0]?.id}/nack`), {
      leaseId: tasks[0]?.leaseId,
      retry: false,
      error: "no",
    });
    await call("POST", qpath(q, `/tasks/${tasks[1]?.id}/ack`), { leaseId: tasks[1]?.leaseId, result: "yes" });
    const [parent] = await lease(q);
    expect(parent).toMatchObject({
      id,
      childResults: [
        { state: "dead", error: "no" },
        { state: "completed", result: "yes" },
      ],
    });
    expect(parent?.childResults?.[0]).not.toHaveProperty("result");
  });

  it("fails a grandparent through a failed middle parent", async () => {
    const q = unique("flow");
    const body = {
      parent: { payload: "root" },
      children: [{ payload: "mid", children: [{ payload: "leaf", maxAttempts: 1 }] }],
    };
    const { id, children } = (await flow(q, body)).body;
    const [leaf] = await lease(q);
    await call("POST", qpath(q, `/tasks/${leaf?.id}/nack`), { leaseId: leaf?.leaseId, retry: false });
    expect((await info(q, childId(children[0]))).state).toBe("dead");
    expect(await info(q, id)).toMatchObject({
      state: "dead",
      lastError: expect.stringContaining(`${q}/${children[0]?.id}`),
    });
  });
});

describe("flows across queues", () => {
  it("creates children in other queues and readies the parent when they complete there", async () => {
    const q = unique("flow");
    const a = unique("flow-a");
    const b = unique("flow-b");
    const res = await flow(q, {
      parent: { payload: "p" },
      children: [
        { queue: a, payload: "in a" },
        { payload: "here" },
        { queue: b, payload: "in b", children: [{ queue: a, payload: "a under b" }] },
      ],
    });
    expect(res.status, res.text).toBe(201);
    const { id, children } = res.body;
    expect(children).toEqual([
      { queue: a, id: expect.any(String) },
      { queue: q, id: expect.any(String) },
      { queue: b, id: expect.any(String), children: [{ queue: a, id: expect.any(String) }] },
    ]);
    expect(await info(b, childId(children[2]))).toMatchObject({ state: "waiting", payload: "in b" });
    expect((await work(a)).sort()).toEqual(["a under b", "in a"]);
    expect(await work(q)).toEqual(["here"]);
    expect((await info(q, id)).state).toBe("waiting");
    expect(await work(b)).toEqual(["in b"]);
    const [parent] = await lease(q);
    expect(parent?.childResults).toEqual([
      { queue: a, id: children[0]?.id, state: "completed", result: { done: "in a" } },
      { queue: q, id: children[1]?.id, state: "completed", result: { done: "here" } },
      { queue: b, id: children[2]?.id, state: "completed", result: { done: "in b" } },
    ]);
  });

  it("is offered by the typed client over RPC", async () => {
    const client = await clientOverRpc();
    const q = unique("flow");
    const other = unique("flow-o");
    const created = await client.flow(q, {
      parent: { payload: 0 },
      children: [{ queue: other, payload: 1 }],
    });
    expect(created.children).toEqual([{ queue: other, id: expect.any(String) }]);
    expect((await client.task(q, created.id)).state).toBe("waiting");
  });

  it("needs write on every child's queue", async () => {
    const q = unique("flw");
    const { token } = await mint({ scopes: [{ resource: `queues:${q}*`, actions: ["write"] }] });
    const mine = await call(
      "POST",
      qpath(q, "/flows"),
      { parent: { payload: 1 }, children: [{ queue: `${q}-x`, payload: 2 }] },
      { token },
    );
    expect(mine.status, mine.text).toBe(201);
    const theirs = await call(
      "POST",
      qpath(q, "/flows"),
      { parent: { payload: 1 }, children: [{ queue: "elsewhere", payload: 2 }] },
      { token },
    );
    expectError(theirs, 403, "forbidden");
    // The same over the service binding with the token.
    const rpc = await exports.SwitchyardRpc.queues({ token });
    const denied = await rpc.flow(q, {
      parent: { payload: 1 },
      children: [{ queue: "elsewhere", payload: 2 }],
    });
    expect(denied).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const allowed = await rpc.flow(q, {
      parent: { payload: 1 },
      children: [{ queue: `${q}-y`, payload: 2 }],
    });
    expect(allowed.ok).toBe(true);
  });
});

describe("bad flows", () => {
  it.each([
    ["no children", { parent: { payload: 1 }, children: [] }],
    ["no parent", { children: [{ payload: 1 }] }],
    ["a delayed parent", { parent: { payload: 1, delayMs: 5 }, children: [{ payload: 1 }] }],
    ["a child with a dedup key", { parent: { payload: 1 }, children: [{ payload: 1, dedupKey: "k" }] }],
    [
      "a delayed child with children",
      { parent: { payload: 1 }, children: [{ payload: 1, delayMs: 5, children: [{ payload: 2 }] }] },
    ],
    ["a bad child queue", { parent: { payload: 1 }, children: [{ queue: "no/slash", payload: 1 }] }],
    ["a bad policy", { parent: { payload: 1 }, children: [{ payload: 1 }], onChildFailure: "maybe" }],
    ["an unknown field", { parent: { payload: 1 }, children: [{ payload: 1 }], extra: true }],
  ])("refuses %s with 400", async (_why, body) => {
    const res = await flow(unique("flow"), body);
    expectError(res, 400, "invalid_request");
  });

  it("refuses a tree deeper than 8 levels or over 1,000 tasks", async () => {
    let node: Record<string, unknown> = { payload: 0 };
    for (let i = 0; i < 8; i++) node = { payload: i, children: [node] };
    const deep = await flow(unique("flow"), { parent: { payload: "p" }, children: [node] });
    expect(deep.status).toBe(400);
    const wide = { payload: 0, children: Array.from({ length: 1000 }, () => ({ payload: 1 })) };
    const big = await flow(unique("flow"), { parent: { payload: "p" }, children: [wide] });
    expect(big.status).toBe(400);
    expect(big.error?.message).toMatch(/1000 tasks/);
  });

  it("refuses a child payload over 256 KiB with 413 naming it", async () => {
    const res = await flow(unique("flow"), {
      parent: { payload: 1 },
      children: [{ payload: 1 }, { payload: "x".repeat(300_000) }],
    });
    expect(res.status).toBe(413);
    expect(res.error?.details?.field).toBe("children.1.payload");
  });

  it("answers the live parent holding the dedup key instead of a second flow", async () => {
    const q = unique("flow");
    const body = { parent: { payload: 1, dedupKey: "k" }, children: [{ payload: 2 }] };
    const first = (await flow(q, body)).body;
    const again = await flow(q, body);
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ id: first.id, children: [], deduplicated: true });
    expect(await enqueue(q, { payload: 3, dedupKey: "k" })).toEqual([first.id]);
  });
});
