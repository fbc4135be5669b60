import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { enqueue, qpath, queueStub, stats, storedTasks } from "./queue-helpers.ts";
import { consumer, expectMessage, upgrade } from "./stream-helpers.ts";

describe("streaming consumers: the protocol", () => {
  it("pushes tasks in lease order to a socket that connected first, and takes batch acks", async () => {
    const q = unique("stream");
    const c = await consumer(q, { prefetch: 10 });
    const [low, normal, critical] = await enqueue(q, {
      tasks: [
        { payload: "low", priority: "low" },
        { payload: "normal" },
        { payload: "critical", priority: "critical" },
      ],
    });
    await c.until(() => c.held.size === 3, "3 pushed tasks");
    // The first enqueue's transaction pushes all three, highest priority first.
    expect(c.pushed.map((t) => t.id)).toEqual([critical, normal, low]);
    const first = c.pushed[0];
    expect(first).toMatchObject({ payload: "critical", priority: "critical", attempt: 1, maxAttempts: 5 });
    expect(typeof first?.leaseId).toBe("string");
    expect(await stats(q)).toMatchObject({ leased: 3, paused: false });
    const acked = await c.ack([critical as string, low as string]);
    expect(acked).toEqual({
      type: "acked",
      results: [
        { id: critical, ok: true },
        { id: low, ok: true },
      ],
    });
    expect(await stats(q)).toMatchObject({ leased: 1, completed: 2 });
    c.close();
  });

  it("answers nack, extend and refused ones in the order received, as the HTTP routes do", async () => {
    const q = unique("stream");
    const c = await consumer(q, { prefetch: 5, visibilityMs: 5_000 });
    const [a, b] = await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2, maxAttempts: 1 }] });
    await c.until(() => c.held.size === 2);
    const ta = c.held.get(a as string);
    const tb = c.held.get(b as string);
    c.send({ type: "extend", id: a, leaseId: ta?.leaseId, visibilityMs: 60_000 });
    c.send({ type: "nack", id: a, leaseId: ta?.leaseId, error: "boom", delayMs: 0 });
    c.send({ type: "nack", id: b, leaseId: tb?.leaseId, error: "fatal" });
    c.send({ type: "extend", id: b, leaseId: tb?.leaseId, visibilityMs: 60_000 });
    c.send({ type: "extend", id: "999999", leaseId: "nope", visibilityMs: 60_000 });
    c.send({ type: "ack", acks: [{ id: b, leaseId: tb?.leaseId }] });
    const extended = await c.answer();
    expect(extended).toMatchObject({ type: "extended", id: a });
    expectMessage(extended, "extended");
    expect(extended.leaseExpiresAt).toBeGreaterThan(Date.now() + 50_000);
    expect(await c.answer()).toMatchObject({ type: "nacked", id: a, state: "ready" });
    expect(await c.answer()).toEqual({ type: "nacked", id: b, state: "dead" });
    expect(await c.answer()).toMatchObject({ type: "error", id: b, error: { code: "lease_mismatch" } });
    expect(await c.answer()).toMatchObject({ type: "error", id: "999999", error: { code: "not_found" } });
    expect(await c.answer()).toEqual({
      type: "acked",
      results: [{ id: b, ok: false, code: "lease_mismatch" }],
    });
    // The nacked task was ready again at once: pushed again to the same socket, attempt 2.
    await c.until(() => c.pushed.length === 3);
    expect(c.pushed[2]).toMatchObject({ id: a, attempt: 2 });
    expect(c.pushed[2]?.leaseId).not.toBe(ta?.leaseId);
    c.close();
  });

  it("splits big pushes into messages a WebSocket can carry", async () => {
    const q = unique("stream");
    const c = await consumer(q, { prefetch: 10 });
    const big = "x".repeat(200_000);
    await enqueue(q, { tasks: [{ payload: big }, { payload: big }, { payload: big }] });
    await c.until(() => c.held.size === 3);
    expect(c.messages.filter((m) => m.type === "tasks").length).toBe(3);
    expect(c.pushed.every((t) => t.payload === big)).toBe(true);
    c.close();
  });

  it("refuses bad upgrades with an HTTP status, never 101", async () => {
    const q = unique("stream");
    expect((await upgrade(q, { prefetch: 0 })).status).toBe(400);
    expect((await upgrade(q, { prefetch: 1001 })).status).toBe(400);
    expect((await upgrade(q, { visibilityMs: 999 })).status).toBe(400);
    expect((await upgrade(q, { prefetch: "ten" })).status).toBe(400);
    expect((await upgrade("bad name!", {})).status).toBe(400);
    expect((await upgrade(q, {}, {})).status).toBe(401);
    expect((await upgrade(q, {}, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await upgrade(q, { token: "switchyard-dev-token" }, {})).status).toBe(101);
    const foreign = await upgrade(
      q,
      {},
      { authorization: "Bearer switchyard-dev-token", origin: "https://evil.example" },
    );
    expect(foreign.status).toBe(403);
    const plain = await call("GET", qpath(q, "/consume"));
    expect(plain.status).toBe(400);
    expect(plain.error).toMatchObject({ code: "invalid_request", details: { field: "upgrade" } });
  });

  it("refuses an ack whose result a double cannot hold (1e400), as the HTTP route does, and keeps the lease", async () => {
    const q = unique("stream");
    const c = await consumer(q, { prefetch: 1 });
    const [id] = await enqueue(q, { payload: 1 });
    await c.until(() => c.held.has(id as string));
    const leaseId = c.held.get(id as string)?.leaseId;
    c.send(`{"type":"ack","acks":[{"id":"${id}","leaseId":"${leaseId}","result":{"n":1e400}}]}`);
    expect(await c.answer()).toMatchObject({
      type: "error",
      error: { code: "invalid_request", details: { field: "acks.0.result.n" } },
    });
    expect(await stats(q)).toMatchObject({ leased: 1, completed: 0 });
    c.close();
  });

  it("names a typo in a message, not the field it left missing", async () => {
    const c = await consumer(unique("stream"), { prefetch: 1 });
    c.send({ type: "nack", id: "1", leaseid: "x" });
    expect(await c.answer()).toMatchObject({
      type: "error",
      error: { code: "invalid_request", message: "leaseid: unknown field", details: { field: "leaseid" } },
    });
    c.close();
  });

  it("answers bad messages and keeps the socket open, then closes it with 1008 after more than 10", async () => {
    const q = unique("stream");
    const c = await consumer(q, { prefetch: 5 });
    const bad = [
      "not json",
      { type: "bogus" },
      { type: "ack" },
      { type: "ack", acks: [] },
      { type: "ack", acks: [{ id: "1" }] },
      { type: "nack", id: "1", leaseId: "x", extra: true },
      { type: "extend", id: "1", leaseId: "x", visibilityMs: 5 },
      [1, 2],
      null,
      { type: "ack", acks: [{ id: "1", leaseId: "x", bogus: 1 }] },
    ];
    for (const m of bad) c.send(m);
    const answers = [];
    for (const _ of bad) answers.push(await c.answer());
    for (const a of answers) expect(a).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    expect(answers[4]).toMatchObject({ error: { details: { field: "acks.0.leaseId" } } });
    expect(answers[5]).toMatchObject({ error: { details: { field: "extra" } } });
    expect(answers[9]).toMatchObject({ error: { details: { field: "acks.0.bogus" } } });
    // Ten bad messages: still open and working.
    const [id] = await enqueue(q, { payload: 1 });
    await c.until(() => c.held.has(id as string));
    // The eleventh closes it; its task goes back to ready at once.
    c.send("{");
    expect(await c.answer()).toMatchObject({ type: "error" });
    expect((await c.closed).code).toBe(1008);
    const s = await stats(q);
    expect(s).toMatchObject({ leased: 0, ready: { normal: 1 }, totals: { recovered: 1 } });
  });
});

describe("streaming consumers: credit, fairness and closing", () => {
  it("never pushes a slow socket more than its prefetch, and does not starve a fast one", async () => {
    const q = unique("credit");
    const slow = await consumer(q, { prefetch: 3 });
    const fast = await consumer(q, { prefetch: 10 });
    let acked = 0;
    const fastLoop = (async () => {
      while (acked < 47) {
        await fast.until(() => fast.held.size > 0, "a push to the fast socket");
        const answer = await fast.ack();
        acked += answer.results.filter((r) => r.ok).length;
        expect(slow.held.size).toBeLessThanOrEqual(3);
      }
    })();
    for (let i = 0; i < 5; i++) {
      await enqueue(q, { tasks: Array.from({ length: 10 }, (_, j) => ({ payload: i * 10 + j })) });
    }
    await fastLoop;
    expect(slow.pushed).toHaveLength(3);
    expect(fast.pushed).toHaveLength(47);
    const ids = new Set([...slow.pushed, ...fast.pushed].map((t) => t.id));
    expect(ids.size).toBe(50);
    // The slow one acks one: one more fits, when one is ready.
    await slow.ack([slow.pushed[0]?.id as string]);
    const [extra] = await enqueue(q, { tasks: [{ payload: "x" }, { payload: "y" }] });
    await slow.until(() => slow.held.has(extra as string));
    expect(slow.held.size).toBe(3);
    slow.close();
    fast.close();
  });

  it("frees credit when a pushed task is acked or nacked over HTTP, whatever path settles it", async () => {
    const q = unique("credit");
    const c = await consumer(q, { prefetch: 2 });
    await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4 }] });
    await c.until(() => c.held.size === 2);
    const [a, b] = [...c.held.values()];
    const acked = await call("POST", qpath(q, `/tasks/${a?.id}/ack`), { leaseId: a?.leaseId });
    expect(acked.status).toBe(200);
    await c.until(() => c.pushed.length === 3, "a push for the credit the HTTP ack freed");
    // An HTTP extension keeps the task counted: nothing more is pushed for it.
    const extended = await call("POST", qpath(q, `/tasks/${b?.id}/extend`), {
      leaseId: b?.leaseId,
      visibilityMs: 60_000,
    });
    expect(extended.status).toBe(200);
    await call("POST", qpath(q, `/tasks/${b?.id}/nack`), { leaseId: b?.leaseId, delayMs: 60_000 });
    await c.until(() => c.pushed.length === 4, "a push for the credit the HTTP nack freed");
    expect((await stats(q)).leased).toBe(2);
    c.close();
  });

  it("shares a trickle of tasks round-robin between sockets with credit", async () => {
    const q = unique("fair");
    const sockets = [await consumer(q), await consumer(q), await consumer(q)];
    for (let i = 0; i < 9; i++) await enqueue(q, { payload: i });
    await sockets[0]?.until(() => sockets.every((s) => s.held.size === 3), "three tasks each");
    // Lease order holds across the sockets: the ids went out in enqueue order.
    const all = sockets.flatMap((s) => s.pushed).map((t) => Number(t.id));
    expect(new Set(all).size).toBe(9);
    for (const s of sockets) s.close();
  });

  it("splits a backlog between sockets instead of giving one everything", async () => {
    const q = unique("fair");
    await call("POST", qpath(q, "/pause"));
    const a = await consumer(q, { prefetch: 200 });
    const b = await consumer(q, { prefetch: 200 });
    for (let i = 0; i < 3; i++) {
      await enqueue(q, { tasks: Array.from({ length: 100 }, (_, j) => ({ payload: i * 100 + j })) });
    }
    await call("POST", qpath(q, "/resume"));
    await a.until(() => a.held.size + b.held.size === 300);
    expect(a.held.size).toBe(150);
    expect(b.held.size).toBe(150);
    a.close();
    b.close();
  });

  it("gives a closed consumer's tasks to another socket at once, counting the attempt", async () => {
    const q = unique("close");
    const first = await consumer(q, { prefetch: 4, visibilityMs: 600_000 });
    const ids = await enqueue(q, {
      tasks: [{ payload: 0, maxAttempts: 1 }, { payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4 }],
    });
    await first.until(() => first.held.size === 4);
    // Mid-batch: one acked, three still held.
    await first.ack([ids[1] as string]);
    await first.until(() => first.held.size === 4);
    const second = await consumer(q, { prefetch: 10 });
    first.close();
    await second.until(() => second.held.size === 3, "the closed socket's tasks");
    expect(second.pushed.map((t) => t.attempt)).toEqual([2, 2, 2]);
    const s = await stats(q);
    // The task with one attempt went to dead; the others were recovered to ready and pushed again.
    expect(s).toMatchObject({ dead: 1, completed: 1, leased: 3, totals: { recovered: 4 } });
    expect((await call("GET", qpath(q, `/tasks/${ids[0]}`))).body).toMatchObject({
      state: "dead",
      lastError: "consumer disconnected on attempt 1 of 1",
    });
    second.close();
  });

  it("still expires leases by visibilityMs, and pushes the task again", async () => {
    const q = unique("expire");
    const c = await consumer(q, { prefetch: 1, visibilityMs: 1_000 });
    const [id] = await enqueue(q, { payload: 1 });
    await c.until(() => c.pushed.length === 1);
    await runDurableObjectAlarm(queueStub(q));
    await c.until(() => c.pushed.length === 2, "the task again after its lease expired");
    expect(c.pushed[1]).toMatchObject({ id, attempt: 2 });
    expect((await stats(q)).totals.recovered).toBe(1);
    c.close();
  });

  it("rebuilds its bookkeeping from the sockets and the rows, as after hibernation", async () => {
    const q = unique("rebuild");
    const c = await consumer(q, { prefetch: 2 });
    await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }, { payload: 3 }] });
    await c.until(() => c.held.size === 2);
    await runInDurableObject(queueStub(q), (instance) => {
      // What the constructor does when the object wakes: memory from storage and attachments.
      (instance as unknown as { load(): void }).load();
    });
    await enqueue(q, { payload: 4 });
    // Still full: nothing more was pushed.
    expect((await stats(q)).leased).toBe(2);
    expect(c.pushed).toHaveLength(2);
    await c.ack();
    await c.until(() => c.pushed.length === 4);
    c.close();
  });

  it("returns the tasks of sockets lost in a restart on the next operation", async () => {
    const q = unique("restart");
    const c = await consumer(q, { prefetch: 2, visibilityMs: 600_000 });
    await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
    await c.until(() => c.held.size === 2);
    await runInDurableObject(queueStub(q), (_instance, state) => {
      // As if the sockets were gone: a rebuild finds no open socket for these leases.
      for (const ws of state.getWebSockets())
        ws.serializeAttachment({ ...ws.deserializeAttachment(), closed: true });
      (_instance as unknown as { load(): void }).load();
    });
    expect(await stats(q)).toMatchObject({ leased: 0, ready: { normal: 2 }, totals: { recovered: 2 } });
    const rows = await storedTasks(q);
    expect(rows.every((r) => r.state === "ready" && r.attempt === 1)).toBe(true);
  });
});
