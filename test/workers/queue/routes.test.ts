import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, expectDocumented, expectError, expectInvalidField, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, stats, twoLeased } from "./queue-helpers.ts";

/** One byte over the 256 KiB a payload may have (a string counts its own bytes). */
const big = "x".repeat(256 * 1024 + 1);

describe("POST /v1/queues/{queue}/tasks", () => {
  it("enqueues one task with the contract's defaults", async () => {
    const q = unique("q");
    const before = Date.now();
    const [id] = await enqueue(q, { payload: { to: "a@b.c" } });
    const task = await call("GET", qpath(q, `/tasks/${id}`));
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({
      id,
      state: "ready",
      priority: "normal",
      attempt: 0,
      maxAttempts: 5,
      payload: { to: "a@b.c" },
    });
    expect(task.body.enqueuedAt).toBeGreaterThanOrEqual(before);
  });

  it("enqueues a batch in order, delayed tasks as delayed, with any JSON payload", async () => {
    const q = unique("q");
    const ids = await enqueue(q, {
      tasks: [
        { payload: null, priority: "critical" },
        { payload: [1, "two"], delayMs: 60_000, maxAttempts: 1 },
        { payload: "text", priority: "low" },
      ],
    });
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    const states = await Promise.all(ids.map((id) => call("GET", qpath(q, `/tasks/${id}`))));
    expect(states.map((s) => [s.body.state, s.body.priority, s.body.payload])).toEqual([
      ["ready", "critical", null],
      ["delayed", "normal", [1, "two"]],
      ["ready", "low", "text"],
    ]);
  });

  it("returns a live task's id for the same dedupKey, and a new id once it completed", async () => {
    const q = unique("q");
    const [first] = await enqueue(q, { payload: 1, dedupKey: "order-7" });
    const again = await enqueue(q, { tasks: [{ payload: 2, dedupKey: "order-7" }, { payload: 3 }] });
    expect(again[0]).toBe(first);
    const [t] = await lease(q);
    expect(t?.id).toBe(first);
    await call("POST", qpath(q, `/tasks/${first}/ack`), { leaseId: t?.leaseId });
    const [fresh] = await enqueue(q, { payload: 4, dedupKey: "order-7" });
    expect(fresh).not.toBe(first);
  });

  it.each([
    ["a missing payload", { priority: "high" }, "payload"],
    ["an unknown priority", { payload: 1, priority: "urgent" }, "priority"],
    ["maxAttempts 0", { payload: 1, maxAttempts: 0 }, "maxAttempts"],
    ["maxAttempts 101", { payload: 1, maxAttempts: 101 }, "maxAttempts"],
    ["a negative delay", { payload: 1, delayMs: -1 }, "delayMs"],
    ["a fractional delay", { payload: 1, delayMs: 1.5 }, "delayMs"],
    ["an empty dedupKey", { payload: 1, dedupKey: "" }, "dedupKey"],
    ["an empty batch", { tasks: [] }, "tasks"],
    ["a batch over 1000", { tasks: Array.from({ length: 1001 }, () => ({ payload: 1 })) }, "tasks"],
    ["a bad task in a batch", { tasks: [{ payload: 1 }, { payload: 2, priority: "x" }] }, "tasks.1.priority"],
    ["a batch that is not a list", { tasks: { payload: 1 } }, "tasks"],
  ])("answers %s with 400 naming the field", async (_label, body, field) => {
    const res = await call("POST", qpath(unique("q"), "/tasks"), body);
    expectInvalidField(res, field);
  });

  it("answers a bad queue name with 400", async () => {
    const res = await call("POST", qpath("-bad", "/tasks"), { payload: 1 });
    expectError(res, 400, "invalid_request");
  });

  it("answers a payload over 256 KiB with 413 and stores nothing of the batch", async () => {
    const q = unique("q");
    const one = await call("POST", qpath(q, "/tasks"), { payload: big });
    expect(one.status).toBe(413);
    expect(one.error).toMatchObject({ code: "payload_too_large", details: { field: "payload" } });
    const batch = await call("POST", qpath(q, "/tasks"), { tasks: [{ payload: 1 }, { payload: big }] });
    expect(batch.status).toBe(413);
    expect(batch.error?.details?.field).toBe("tasks.1.payload");
    expect((await stats(q)).totals.enqueued).toBe(0);
    const atLimit = await call("POST", qpath(q, "/tasks"), { payload: big.slice(1) });
    expect(atLimit.status).toBe(201);
  });
});

describe("POST /v1/queues/{queue}/lease", () => {
  it("answers an empty queue with an empty list", async () => {
    expect(await lease(unique("q"))).toEqual([]);
  });

  it("leases one task by default for 30 s, highest priority first", async () => {
    const q = unique("q");
    const [low, high] = await enqueue(q, {
      tasks: [
        { payload: "l", priority: "low" },
        { payload: "h", priority: "high" },
      ],
    });
    const before = Date.now();
    const tasks = await lease(q);
    expect(tasks).toHaveLength(1);
    const t = tasks[0];
    expect(t).toMatchObject({ id: high, payload: "h", priority: "high", attempt: 1 });
    expect(typeof t?.leaseId).toBe("string");
    expect(t?.leaseExpiresAt).toBeGreaterThanOrEqual(before + 30_000);
    expect(t?.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + 30_000);
    const rest = await lease(q, { max: 10, visibilityMs: 1_000 });
    expect(rest.map((r) => r.id)).toEqual([low]);
  });

  it("stops adding tasks once their payloads pass 8 MiB, leaving the rest ready", async () => {
    const q = unique("q");
    const payload = "p".repeat(250_000);
    for (let i = 0; i < 18; i++) await enqueue(q, { tasks: Array.from({ length: 4 }, () => ({ payload })) });
    const first = await lease(q, { max: 100 });
    expect(first.length).toBe(Math.floor((8 * 1024 * 1024) / (payload.length + 2)));
    expect(await stats(q)).toMatchObject({ leased: first.length, ready: { normal: 72 - first.length } });
    const rest = [...(await lease(q, { max: 100 })), ...(await lease(q, { max: 100 }))];
    expect(rest.map((t) => t.attempt)).toEqual(rest.map(() => 1));
    expect(first.length + rest.length).toBe(72);
  });

  it.each([
    ["max 0", { max: 0 }, "max"],
    ["max 1001", { max: 1001 }, "max"],
    ["max as a string", { max: "2" }, "max"],
    ["visibilityMs 999", { visibilityMs: 999 }, "visibilityMs"],
    ["visibilityMs over 12 h", { visibilityMs: 43_200_001 }, "visibilityMs"],
    ["waitMs over 20 s", { waitMs: 20_001 }, "waitMs"],
    ["a negative waitMs", { waitMs: -1 }, "waitMs"],
  ])("answers %s with 400", async (_label, body, field) => {
    const res = await call("POST", qpath(unique("q"), "/lease"), body);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });
});

/** A queue with one task leased; returns the names to act on it. */
async function leasedTask(payload: unknown = 1, extra: Record<string, unknown> = {}) {
  const q = unique("q");
  const [id] = await enqueue(q, { payload, ...extra });
  const [t] = await lease(q);
  return { q, id: id as string, leaseId: t?.leaseId as string };
}

describe("POST /v1/queues/{queue}/tasks/{id}/ack", () => {
  it("completes the task and keeps its result", async () => {
    const { q, id, leaseId } = await leasedTask();
    const res = await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId, result: { sent: true } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, state: "completed" });
    const task = await call("GET", qpath(q, `/tasks/${id}`));
    expect(task.body).toMatchObject({ state: "completed", result: { sent: true }, attempt: 1 });
  });

  it("refuses a wrong or spent lease with 409 and an unknown task with 404", async () => {
    const { q, id, leaseId } = await leasedTask();
    const wrong = await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: "not-mine" });
    expectError(wrong, 409, "lease_mismatch");
    expect((await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId })).status).toBe(200);
    // A retried ack of the lease that completed the task holds again (its answer may have been lost).
    const twice = await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId });
    expect(twice.status).toBe(200);
    expect((await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId: "not-mine" })).status).toBe(409);
    for (const unknown of ["999999", "abc", "007"]) {
      const res = await call("POST", qpath(q, `/tasks/${unknown}/ack`), { leaseId });
      expectError(res, 404, "not_found");
    }
  });

  it("answers a missing leaseId with 400 and a result over 256 KiB with 413", async () => {
    const { q, id, leaseId } = await leasedTask();
    const missing = await call("POST", qpath(q, `/tasks/${id}/ack`), {});
    expect(missing.status).toBe(400);
    expect(missing.error?.details?.field).toBe("leaseId");
    const large = await call("POST", qpath(q, `/tasks/${id}/ack`), { leaseId, result: big });
    expect(large.status).toBe(413);
    expect((await call("GET", qpath(q, `/tasks/${id}`))).body.state).toBe("leased");
  });
});

describe("POST /v1/queues/{queue}/tasks/{id}/nack", () => {
  it("retries after a backoff by default, keeping the error", async () => {
    const { q, id, leaseId } = await leasedTask();
    const before = Date.now();
    const res = await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId, error: "smtp down" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, state: "delayed" });
    // First retry: 1 s with equal jitter, i.e. between 0.5 s and 1 s.
    expect(res.body.nextAttemptAt).toBeGreaterThanOrEqual(before + 500);
    expect(res.body.nextAttemptAt).toBeLessThanOrEqual(Date.now() + 1_000);
    const task = await call("GET", qpath(q, `/tasks/${id}`));
    expect(task.body).toMatchObject({ state: "delayed", lastError: "smtp down", attempt: 1 });
  });

  it("makes the task ready at once with delayMs 0", async () => {
    const { q, id, leaseId } = await leasedTask();
    const res = await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId, delayMs: 0 });
    expect(res.body).toMatchObject({ id, state: "ready" });
    const [again] = await lease(q);
    expect(again).toMatchObject({ id, attempt: 2 });
  });

  it("dead-letters the task when retry is false or the attempts are used up", async () => {
    const a = await leasedTask();
    const off = await call("POST", qpath(a.q, `/tasks/${a.id}/nack`), { leaseId: a.leaseId, retry: false });
    expect(off.body).toEqual({ id: a.id, state: "dead" });
    const b = await leasedTask(1, { maxAttempts: 1 });
    const out = await call("POST", qpath(b.q, `/tasks/${b.id}/nack`), { leaseId: b.leaseId, error: "boom" });
    expect(out.body).toEqual({ id: b.id, state: "dead" });
    expect((await call("GET", qpath(b.q, `/tasks/${b.id}`))).body).toMatchObject({
      state: "dead",
      lastError: "boom",
    });
  });

  it("answers bad input with 400, a wrong lease with 409, an unknown task with 404", async () => {
    const { q, id, leaseId } = await leasedTask();
    for (const [body, field] of [
      [{ leaseId, retry: "yes" }, "retry"],
      [{ leaseId, delayMs: -5 }, "delayMs"],
      [{ leaseId, error: 42 }, "error"],
      [{}, "leaseId"],
    ] as const) {
      const res = await call("POST", qpath(q, `/tasks/${id}/nack`), body);
      expect(res.status).toBe(400);
      expect(res.error?.details?.field).toBe(field);
    }
    expect((await call("POST", qpath(q, `/tasks/${id}/nack`), { leaseId: "x" })).status).toBe(409);
    expect((await call("POST", qpath(q, "/tasks/424242/nack"), { leaseId })).status).toBe(404);
  });
});

describe("POST /v1/queues/{queue}/tasks/{id}/extend", () => {
  it("moves the expiry to now + visibilityMs", async () => {
    const { q, id, leaseId } = await leasedTask();
    const before = Date.now();
    const res = await call("POST", qpath(q, `/tasks/${id}/extend`), { leaseId, visibilityMs: 600_000 });
    expect(res.status).toBe(200);
    expect(res.body.leaseExpiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(res.body.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it("answers bad input with 400, a wrong lease with 409, an unknown task with 404", async () => {
    const { q, id, leaseId } = await leasedTask();
    for (const body of [{ leaseId }, { leaseId, visibilityMs: 999 }, { visibilityMs: 5_000 }]) {
      expect((await call("POST", qpath(q, `/tasks/${id}/extend`), body)).status).toBe(400);
    }
    const wrong = await call("POST", qpath(q, `/tasks/${id}/extend`), { leaseId: "x", visibilityMs: 5_000 });
    expectError(wrong, 409, "lease_mismatch");
    const unknown = await call("POST", qpath(q, "/tasks/77777/extend"), { leaseId, visibilityMs: 5_000 });
    expect(unknown.status).toBe(404);
  });
});

describe("POST /v1/queues/{queue}/ack (batch)", () => {
  it("acks each task on its own merits in one call", async () => {
    const { q, a, b } = await twoLeased();
    const res = await call("POST", qpath(q, "/ack"), {
      acks: [
        { id: a?.id, leaseId: a?.leaseId, result: "ok" },
        { id: b?.id, leaseId: "stale" },
        { id: "5000", leaseId: "x" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { id: a?.id, ok: true },
      { id: b?.id, ok: false, code: "lease_mismatch" },
      { id: "5000", ok: false, code: "not_found" },
    ]);
    expect(await stats(q)).toMatchObject({ completed: 1, leased: 1 });
  });

  it.each([
    ["no acks", { acks: [] }, "acks"],
    ["over 1000 acks", { acks: Array.from({ length: 1001 }, () => ({ id: "1", leaseId: "x" })) }, "acks"],
    ["an ack without leaseId", { acks: [{ id: "1" }] }, "acks.0.leaseId"],
    ["no body fields", {}, "acks"],
  ])("answers %s with 400", async (_label, body, field) => {
    const res = await call("POST", qpath(unique("q"), "/ack"), body);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });
});

describe("GET /v1/queues/{queue}/tasks/{id} and /stats", () => {
  it("answers an unknown task with 404", async () => {
    const res = await call("GET", qpath(unique("q"), "/tasks/1"));
    expectError(res, 404, "not_found");
  });

  it("counts tasks per state and priority, with totals and the oldest ready age", async () => {
    const q = unique("q");
    await enqueue(q, {
      tasks: [
        { payload: 1, priority: "critical" },
        { payload: 2, priority: "high" },
        { payload: 3, priority: "low" },
        { payload: 4, priority: "low" },
        { payload: 5, delayMs: 60_000 },
      ],
    });
    const [t] = await lease(q);
    await call("POST", qpath(q, `/tasks/${t?.id}/ack`), { leaseId: t?.leaseId });
    const res = await call("GET", qpath(q, "/stats"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ready: { low: 2, normal: 0, high: 1, critical: 0 },
      delayed: 1,
      leased: 0,
      completed: 1,
      dead: 0,
      waiting: 0,
      totals: { enqueued: 5, completed: 1, retried: 0, dead: 0, recovered: 0 },
      oldestReadyAgeMs: expect.any(Number),
      paused: false,
    });
    expect(res.body.oldestReadyAgeMs).toBeGreaterThanOrEqual(0);
    expect((await stats(unique("q"))).oldestReadyAgeMs).toBe(0);
  });

  it("reports the oldest ready age across priorities, whichever priority holds it", async () => {
    const q = unique("q");
    const [low, critical] = await enqueue(q, {
      tasks: [
        { payload: 1, priority: "low" },
        { payload: 2, priority: "critical" },
      ],
    });
    // Ready since 50 s (the low task) and 10 s (the critical one) ago; no normal or high task.
    await runInDurableObject(queueStub(q), (_instance, state) => {
      state.storage.sql.exec(
        "UPDATE tasks SET available_at = ? WHERE seq = ?",
        Date.now() - 50_000,
        Number(low),
      );
      state.storage.sql.exec(
        "UPDATE tasks SET available_at = ? WHERE seq = ?",
        Date.now() - 10_000,
        Number(critical),
      );
    });
    const age = async () => (await stats(q)).oldestReadyAgeMs as number;
    expect(await age()).toBeGreaterThanOrEqual(50_000);
    expect(await age()).toBeLessThan(55_000);
    await lease(q); // the critical task goes first; the low one is still the oldest
    expect(await age()).toBeGreaterThanOrEqual(50_000);
    await lease(q);
    expect(await age()).toBe(0);
  });

  it("answers a bad queue name with 400", async () => {
    expect((await call("GET", qpath("bad name!", "/stats"))).status).toBe(400);
  });
});

/** A queue with `n` dead tasks; returns their ids. */
async function deadTasks(n: number) {
  const q = unique("q");
  const ids = await enqueue(q, { tasks: Array.from({ length: n }, (_, i) => ({ payload: i })) });
  for (const t of await lease(q, { max: n })) {
    await call("POST", qpath(q, `/tasks/${t.id}/nack`), {
      leaseId: t.leaseId,
      retry: false,
      error: `e${t.id}`,
    });
  }
  return { q, ids };
}

describe("dead letters", () => {
  it("pages through dead tasks with a cursor", async () => {
    const { q, ids } = await deadTasks(5);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: `?${string}` = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page = await call("GET", qpath(q, `/dead${query}`));
      expect(page.status).toBe(200);
      expect(page.body.tasks.length).toBeLessThanOrEqual(2);
      for (const t of page.body.tasks) {
        expect(t).toMatchObject({ state: "dead", lastError: `e${t.id}` });
        seen.push(t.id);
      }
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const all = await call("GET", qpath(q, "/dead?cursor="));
    expect(all.body).toMatchObject({ cursor: null });
    expect(all.body.tasks).toHaveLength(5);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=1001", "limit"],
    ["limit=abc", "limit"],
    ["cursor=zzz", "cursor"],
  ])("answers ?%s with 400", async (query, field) => {
    const res = await call("GET", qpath(unique("q"), `/dead?${query}`));
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });

  it("redrives the listed dead tasks, then all, with attempts reset", async () => {
    const { q, ids } = await deadTasks(3);
    // An empty list names no task: nothing moves (absent is what means all).
    expect((await call("POST", qpath(q, "/dead/redrive"), { ids: [] })).body).toEqual({ redriven: 0 });
    expect(await stats(q)).toMatchObject({ dead: 3 });
    const some = await call("POST", qpath(q, "/dead/redrive"), { ids: [ids[0], ids[0], "999"] });
    expect(some.status).toBe(200);
    expect(some.body).toEqual({ redriven: 1 });
    expect((await call("GET", qpath(q, `/tasks/${ids[0]}`))).body).toMatchObject({
      state: "ready",
      attempt: 0,
    });
    const rest = await call("POST", qpath(q, "/dead/redrive"));
    expect(rest.body).toEqual({ redriven: 2 });
    expect(await stats(q)).toMatchObject({ dead: 0, ready: { normal: 3 } });
  });
});

describe("DELETE /v1/queues/{queue}/tasks", () => {
  it("purges completed or dead tasks older than olderThanMs", async () => {
    const { q } = await deadTasks(2);
    const recent = await call("DELETE", qpath(q, "/tasks?state=dead&olderThanMs=600000"));
    expect(recent.status).toBe(200);
    expect(recent.body).toEqual({ purged: 0 });
    expect((await call("DELETE", qpath(q, "/tasks?state=completed"))).body).toEqual({ purged: 0 });
    expect((await call("DELETE", qpath(q, "/tasks?state=dead"))).body).toEqual({ purged: 2 });
    expect(await stats(q)).toMatchObject({ dead: 0, totals: { dead: 2 } });
  });

  it.each<[query: "" | `?${string}`, field: string]>([
    ["", "state"],
    ["?state=ready", "state"],
    ["?state=dead&olderThanMs=-1", "olderThanMs"],
    ["?state=dead&olderThanMs=soon", "olderThanMs"],
  ])("answers %s with 400", async (query, field) => {
    const res = await call("DELETE", qpath(unique("q"), `/tasks${query}`));
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });
});

describe("queue routes and HTTP rules", () => {
  it("answers a wrong method with 405 and lists every queue route in OpenAPI", async () => {
    const wrong = await call("PUT", qpath("q", "/lease"), {});
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    const doc = await expectDocumented([
      "/v1/queues/{queue}/tasks",
      "/v1/queues/{queue}/lease",
      "/v1/queues/{queue}/tasks/{id}/ack",
      "/v1/queues/{queue}/tasks/{id}/nack",
      "/v1/queues/{queue}/tasks/{id}/extend",
      "/v1/queues/{queue}/ack",
      "/v1/queues/{queue}/tasks/{id}",
      "/v1/queues/{queue}/stats",
      "/v1/queues/{queue}/dead",
      "/v1/queues/{queue}/dead/redrive",
    ]);
    expect(Object.keys(doc.paths["/v1/queues/{queue}/tasks"] ?? {}).sort()).toEqual([
      "delete",
      "get",
      "post",
    ]);
  });

  it("requires a token", async () => {
    const res = await call("POST", qpath("q", "/lease"), {}, { token: null });
    expect(res.status).toBe(401);
  });
});
