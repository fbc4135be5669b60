import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, expectInvalidField, unique } from "../helpers.ts";
import { enqueue, lease, qpath } from "./queue-helpers.ts";

const promote = (q: string, id: string, body?: unknown) =>
  call("POST", qpath(q, `/tasks/${id}/promote`), body);
const list = (q: string, query: string) => call("GET", qpath(q, `/tasks?${query}`));

/** Every page of a list, following the cursor; fails the test on anything but 200. */
async function listAll(q: string, query: string): Promise<Array<Record<string, unknown>>> {
  const tasks: Array<Record<string, unknown>> = [];
  let cursor: string | null = "";
  for (let page = 0; cursor !== null && page < 100; page++) {
    const res = await list(q, `${query}&cursor=${encodeURIComponent(cursor)}`);
    expect(res.status, res.text).toBe(200);
    tasks.push(...res.body.tasks);
    cursor = res.body.cursor;
  }
  return tasks;
}

describe("POST /v1/queues/{queue}/tasks/{id}/promote", () => {
  it("makes a delayed task ready now, with no body or {}, and it is leased next", async () => {
    const q = unique("q");
    const [a, b] = await enqueue(q, {
      tasks: [
        { payload: "a", delayMs: 600_000 },
        { payload: "b", delayMs: 600_000 },
      ],
    });
    const res = await promote(q, a as string);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: a, state: "ready" });
    expect((await promote(q, b as string, {})).body).toEqual({ id: b, state: "ready" });
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    expect(stats).toMatchObject({ delayed: 0, ready: { normal: 2 } });
    expect((await lease(q, { max: 2 })).map((t) => t.id)).toEqual([a, b]);
  });

  it("keeps the priority and puts the task behind those already ready in it", async () => {
    const q = unique("q");
    const [late] = await enqueue(q, { payload: "late", priority: "high", delayMs: 600_000 });
    const [ready] = await enqueue(q, { payload: "ready", priority: "high" });
    const [low] = await enqueue(q, { payload: "low", priority: "low" });
    await promote(q, late as string);
    expect((await lease(q, { max: 3 })).map((t) => t.id)).toEqual([ready, late, low]);
  });

  it("answers 409 conflict for a task that is not delayed, and 404 for an unknown one", async () => {
    const q = unique("q");
    const [ready, leased, done, dead] = await enqueue(q, {
      tasks: [{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4, maxAttempts: 1 }],
    });
    const taken = await lease(q, { max: 4 });
    const byId = new Map(taken.map((t) => [t.id, t]));
    await call("POST", qpath(q, `/tasks/${done}/ack`), { leaseId: byId.get(done as string)?.leaseId });
    await call("POST", qpath(q, `/tasks/${dead}/nack`), { leaseId: byId.get(dead as string)?.leaseId });
    await call("POST", qpath(q, `/tasks/${ready}/nack`), {
      leaseId: byId.get(ready as string)?.leaseId,
      delayMs: 0,
    });
    for (const [id, state] of [
      [ready, "ready"],
      [leased, "leased"],
      [done, "completed"],
      [dead, "dead"],
    ] as const) {
      const res = await promote(q, id as string);
      expect(res.status, `${state}: ${res.text}`).toBe(409);
      expect(res.error?.code).toBe("conflict");
      expect(res.error?.details?.state).toBe(state);
    }
    for (const unknown of ["999999", "abc", "007"]) {
      const res = await promote(q, unknown);
      expectError(res, 404, "not_found");
    }
  });

  it("answers a body with fields with 400, and a bad queue name with 400", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: 1, delayMs: 600_000 });
    const res = await promote(q, id as string, { now: true });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("now");
    expect((await promote("-bad", "1")).status).toBe(400);
    expect((await call("GET", qpath(q, `/tasks/${id}`))).body.state).toBe("delayed");
  });
});

describe("GET /v1/queues/{queue}/tasks", () => {
  it("lists ready tasks in lease order across pages", async () => {
    const q = unique("q");
    const priorities = ["low", "critical", "normal", "high", "critical", "low", "normal", "high"] as const;
    const ids = await enqueue(q, { tasks: priorities.map((priority, i) => ({ payload: i, priority })) });
    const rank = { low: 0, normal: 1, high: 2, critical: 3 };
    const expected = ids
      .map((id, i) => ({ id, rank: rank[priorities[i] as keyof typeof rank], i }))
      .sort((a, b) => b.rank - a.rank || a.i - b.i)
      .map((t) => t.id);
    const listed = await listAll(q, "state=ready&limit=3");
    expect(listed.map((t) => t.id)).toEqual(expected);
    // The list is what leases take, in that order.
    expect((await lease(q, { max: 8 })).map((t) => t.id)).toEqual(expected);
  });

  it("lists the other states in enqueue order, oldest first, with TaskInfo bodies", async () => {
    const q = unique("q");
    const ids = await enqueue(q, {
      tasks: [
        { payload: { n: 0 }, delayMs: 600_000, priority: "critical" },
        { payload: { n: 1 }, priority: "high" },
        { payload: { n: 2 }, delayMs: 600_000, dedupKey: "k-2" },
        { payload: { n: 3 } },
        { payload: { n: 4 }, delayMs: 600_000, priority: "low" },
      ],
    });
    const delayed = await listAll(q, "state=delayed&limit=2");
    expect(delayed.map((t) => t.id)).toEqual([ids[0], ids[2], ids[4]]);
    expect(delayed[1]).toEqual({
      id: ids[2],
      state: "delayed",
      priority: "normal",
      attempt: 0,
      maxAttempts: 5,
      enqueuedAt: expect.any(Number),
      payload: { n: 2 },
      dedupKey: "k-2",
    });
    const taken = await lease(q, { max: 2 });
    // Leased in priority order (high first), listed in enqueue order.
    expect(taken.map((t) => t.id)).toEqual([ids[1], ids[3]]);
    expect((await listAll(q, "state=leased&limit=1")).map((t) => t.id)).toEqual([ids[1], ids[3]]);
    await call("POST", qpath(q, "/ack"), {
      acks: [...taken].reverse().map((t) => ({ id: t.id, leaseId: t.leaseId, result: `r${t.id}` })),
    });
    const completed = await listAll(q, "state=completed");
    expect(completed.map((t) => [t.id, t.result])).toEqual([
      [ids[1], `r${ids[1]}`],
      [ids[3], `r${ids[3]}`],
    ]);
    expect((await list(q, "state=dead")).body).toEqual({ tasks: [], cursor: null });
  });

  it("finds the live task holding a dedup key, and nothing once it completed", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: "x", dedupKey: "order-9" });
    await enqueue(q, { payload: "other", dedupKey: "order-10" });
    const found = await list(q, "dedupKey=order-9");
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      tasks: [expect.objectContaining({ id, state: "ready", payload: "x", dedupKey: "order-9" })],
      cursor: null,
    });
    expect((await list(q, "dedupKey=order-9&state=ready")).body.tasks).toHaveLength(1);
    expect((await list(q, "dedupKey=order-9&state=delayed")).body.tasks).toEqual([]);
    expect((await list(q, "dedupKey=nobody")).body).toEqual({ tasks: [], cursor: null });
    const [t] = await lease(q);
    await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: t?.leaseId });
    expect((await list(q, "dedupKey=order-9")).body.tasks).toEqual([]);
  });

  it.each([
    ["no state and no dedupKey", "", "state"],
    ["an unknown state", "state=done", "state"],
    ["limit 0", "state=ready&limit=0", "limit"],
    ["limit 1001", "state=ready&limit=1001", "limit"],
    ["limit not a number", "state=ready&limit=many", "limit"],
    ["an empty dedupKey", "dedupKey=", "dedupKey"],
    ["a cursor this list never gave", "state=dead&cursor=abc", "cursor"],
    ["a ready cursor on another state", "state=delayed&cursor=3.1700000000000.4", "cursor"],
    ["a seq cursor on the ready list", "state=ready&cursor=4", "cursor"],
  ])("answers %s with 400 naming the field", async (_label, query, field) => {
    const q = unique("q");
    await enqueue(q, { payload: 1 });
    const res = await list(q, query);
    expectInvalidField(res, field);
  });

  it("does not disturb the routes beside it: DELETE purges, GET .../tasks/{id} reads one", async () => {
    const q = unique("q");
    const [id] = await enqueue(q, { payload: 1 });
    expect((await call("GET", qpath(q, `/tasks/${id}`))).body.id).toBe(id);
    expect((await call("DELETE", qpath(q, "/tasks?state=dead"))).body).toEqual({ purged: 0 });
    expect((await call("PUT", qpath(q, "/tasks"), {})).status).toBe(405);
  });
});

describe("operator routes in the OpenAPI document", () => {
  it("declares their operationIds, actions and query parameters", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
    const list = doc.paths["/v1/queues/{queue}/tasks"]?.get;
    expect(list).toMatchObject({ operationId: "listTasks", "x-switchyard-access": "queues:read" });
    const params = list?.parameters?.filter((p) => p.in === "query").map((p) => p.name);
    expect(params?.sort()).toEqual(["cursor", "dedupKey", "limit", "state"]);
    const promote = doc.paths["/v1/queues/{queue}/tasks/{id}/promote"]?.post;
    expect(promote).toMatchObject({ operationId: "promoteTask", "x-switchyard-access": "queues:admin" });
    expect(Object.keys(promote?.responses ?? {})).toEqual(expect.arrayContaining(["200", "404", "409"]));
  });
});

describe("operator routes over the service binding", () => {
  it("promotes and lists with the HTTP routes' results", async () => {
    const rpc = await exports.SwitchyardRpc.queues();
    const q = unique("q");
    const [id] = await enqueue(q, { payload: { a: 1 }, delayMs: 600_000, dedupKey: "d" });
    const page = await rpc.tasks(q, { state: "delayed" });
    expect(page).toEqual({
      ok: true,
      value: { tasks: [expect.objectContaining({ id, payload: { a: 1 }, dedupKey: "d" })], cursor: null },
    });
    expect(await rpc.promote(q, id as string)).toEqual({ ok: true, value: { id, state: "ready" } });
    const again = await rpc.promote(q, id as string);
    expect(again).toMatchObject({ ok: false, error: { code: "conflict" } });
    const bad = await rpc.tasks(q, { limit: 5 });
    expect(bad).toMatchObject({ ok: false, error: { details: { field: "state" } } });
    const one = await rpc.task(q, id as string);
    expect(one.ok && one.value.payload).toEqual({ a: 1 });
  });
});
