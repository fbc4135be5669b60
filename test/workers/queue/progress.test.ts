/**
 * Progress and log lines of leased tasks, against real queue objects: the limits, the lease checks,
 * survival across nack, lease expiry (the alarm) and a closed consumer socket, the attempt each line
 * was written in, the bounded log keeping the newest lines, the socket messages, scoped tokens and
 * the typed client over HTTP leases, streaming sockets and the service binding.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../shared/errors.ts";
import {
  MAX_LOG_LINE_BYTES,
  MAX_LOG_LINES_KEPT,
  MAX_PROGRESS_BYTES,
} from "../../../shared/schemas/queue-progress.ts";
import { call, expectError, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";
import {
  CLIENT_TRANSPORTS,
  clientOverHttpLeases,
  enqueue,
  type Leased,
  lease,
  qpath,
  queueStub,
} from "./queue-helpers.ts";
import { consumer } from "./stream-helpers.ts";

const progress = (q: string, id: string, body: unknown, token?: string) =>
  call("POST", qpath(q, `/tasks/${id}/progress`), body, token === undefined ? {} : { token });
const logs = (q: string, id: string, body: unknown, token?: string) =>
  call("POST", qpath(q, `/tasks/${id}/logs`), body, token === undefined ? {} : { token });
const info = async (q: string, id: string) => {
  const res = await call("GET", qpath(q, `/tasks/${id}`));
  expect(res.status, res.text).toBe(200);
  return res.body;
};

/** One task enqueued and leased; returns the lease. */
async function leasedTask(q: string, task: Record<string, unknown> = {}, leaseBody: unknown = {}) {
  const [id] = await enqueue(q, { payload: "job", ...task });
  const [t] = await lease(q, leaseBody);
  expect(t?.id).toBe(id);
  return t as Leased;
}

/** One task enqueued and pushed to a fresh consumer socket. */
async function pushedTask(q: string) {
  const [id] = await enqueue(q, { payload: 1 });
  const c = await consumer(q, { prefetch: 1 });
  await c.until(() => c.held.size === 1, "a push");
  return { id: id as string, c, t: c.held.get(id as string) as Leased };
}

/** Every kept log row and the task's log bookkeeping, read inside the object. */
function logRows(q: string, seq: number) {
  return runInDurableObject(queueStub(q), (_i, state) => {
    const sql = state.storage.sql;
    const rows = sql
      .exec<{ n: number; entry: string }>("SELECT n, entry FROM task_logs WHERE seq = ? ORDER BY n", seq)
      .toArray();
    const task = sql
      .exec<{ log_count: number; log_bytes: number }>(
        "SELECT log_count, log_bytes FROM tasks WHERE seq = ?",
        seq,
      )
      .toArray()[0];
    return { rows, task };
  });
}

describe("progress and logs over HTTP", () => {
  it("stores progress and log lines of the lease holder and shows them in task info and lists", async () => {
    const q = unique("progress");
    const t = await leasedTask(q);
    const reported = await progress(q, t.id, { leaseId: t.leaseId, progress: { done: 3, of: 10 } });
    expect(reported.status, reported.text).toBe(200);
    expect(reported.body).toEqual({ id: t.id, progressAt: expect.any(Number) });
    const replaced = await progress(q, t.id, { leaseId: t.leaseId, progress: "almost" });
    const appended = await logs(q, t.id, { leaseId: t.leaseId, lines: ["fetched", 'said "hi"\n'] });
    expect(appended.status, appended.text).toBe(200);
    expect(appended.body).toEqual({ id: t.id, appended: 2, kept: 2, dropped: 0 });

    const task = await info(q, t.id);
    expect(task).toMatchObject({ state: "leased", progress: "almost", progressAt: replaced.body.progressAt });
    expect(task.logs).toEqual([
      { attempt: 1, at: expect.any(Number), line: "fetched" },
      { attempt: 1, at: expect.any(Number), line: 'said "hi"\n' },
    ]);
    expect(task.logs?.[0]?.at).toBeGreaterThanOrEqual(t.enqueuedAt);
    expect(task).not.toHaveProperty("logsDropped");
    const list = await call("GET", qpath(q, "/tasks?state=leased"));
    expect(list.body.tasks).toEqual([task]);
    const byKey = await call("GET", qpath(q, "/tasks?state=leased"));
    expect(byKey.body.tasks[0]?.logs).toHaveLength(2);
    // A task nobody reported on carries neither.
    const [other] = await enqueue(q, { payload: 2 });
    expect(Object.keys(await info(q, other as string))).not.toEqual(
      expect.arrayContaining(["progress", "progressAt", "logs", "logsDropped"]),
    );
  });

  it("takes progress up to 4 KiB of JSON text and log lines up to 1 KiB; larger is 413, nothing stored", async () => {
    const q = unique("progress-limits");
    const t = await leasedTask(q);
    // A JSON string's text is its characters and two quotes.
    const atLimit = "é".repeat((MAX_PROGRESS_BYTES - 2) / 2);
    expect((await progress(q, t.id, { leaseId: t.leaseId, progress: atLimit })).status).toBe(200);
    const over = await progress(q, t.id, { leaseId: t.leaseId, progress: `${atLimit}x` });
    expect(over.status).toBe(413);
    expect(over.error).toMatchObject({
      code: "payload_too_large",
      details: { field: "progress", limit: MAX_PROGRESS_BYTES },
    });
    expect((await info(q, t.id)).progress).toBe(atLimit);

    const longest = "x".repeat(MAX_LOG_LINE_BYTES);
    expect((await logs(q, t.id, { leaseId: t.leaseId, lines: [longest] })).status).toBe(200);
    const tooLong = await logs(q, t.id, { leaseId: t.leaseId, lines: ["fine", "€".repeat(342)] });
    expect(tooLong.status).toBe(413);
    expect(tooLong.error).toMatchObject({
      code: "payload_too_large",
      details: { field: "lines.1", limit: MAX_LOG_LINE_BYTES },
    });
    expect((await info(q, t.id)).logs?.map((l) => l.line)).toEqual([longest]);
  });

  it("answers bad bodies with 400, never 5xx", async () => {
    const q = unique("progress-bad");
    const t = await leasedTask(q);
    const bad: unknown[] = [
      {},
      { leaseId: t.leaseId },
      { progress: 1 },
      { leaseId: "", progress: 1 },
      { leaseId: t.leaseId, progress: 1, extra: true },
      { leaseId: 7, progress: 1 },
    ];
    for (const body of bad) {
      const res = await progress(q, t.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.error?.code).toBe("invalid_request");
    }
    const badLogs: unknown[] = [
      { leaseId: t.leaseId },
      { leaseId: t.leaseId, lines: [] },
      { leaseId: t.leaseId, lines: "one" },
      { leaseId: t.leaseId, lines: [1] },
      { leaseId: t.leaseId, lines: Array.from({ length: 101 }, () => "x") },
      { leaseId: t.leaseId, lines: ["x"], extra: 1 },
    ];
    for (const body of badLogs) {
      const res = await logs(q, t.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.error?.code).toBe("invalid_request");
    }
    const notJson = await call("POST", qpath(q, `/tasks/${t.id}/logs`), undefined, {
      raw: "{",
      headers: { "content-type": "application/json" },
    });
    expect(notJson.status).toBe(400);
    expect((await progress("bad name!", t.id, { leaseId: t.leaseId, progress: 1 })).status).toBe(400);
  });

  it("lets only the live lease holder report: 409 lease_mismatch otherwise, 404 for unknown tasks", async () => {
    const q = unique("progress-lease");
    const t = await leasedTask(q, {}, { visibilityMs: 1_000 });
    const sends = [
      (id: string, leaseId: string) => progress(q, id, { leaseId, progress: 1 }),
      (id: string, leaseId: string) => logs(q, id, { leaseId, lines: ["x"] }),
    ];
    for (const send of sends) {
      const wrong = await send(t.id, "not-the-lease");
      expectError(wrong, 409, "lease_mismatch");
      for (const id of ["999999", "abc", "0"]) {
        const unknown = await send(id, t.leaseId);
        expect(unknown.status, id).toBe(404);
        expect(unknown.error?.code).toBe("not_found");
      }
    }
    // The lease expires (the alarm recovers it): the old lease id is refused.
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const late = await progress(q, t.id, { leaseId: t.leaseId, progress: 1 });
    expect(late.status).toBe(409);
    // A completed task takes no more reports, not even from the lease that completed it.
    const [again] = await lease(q);
    await call("POST", qpath(q, `/tasks/${t.id}/ack`), { leaseId: again?.leaseId });
    const done = await logs(q, t.id, { leaseId: again?.leaseId, lines: ["after"] });
    expect(done.status).toBe(409);
    expect(done.error?.details).toMatchObject({ state: "completed" });
  });
});

describe("progress and logs through retries", () => {
  it("keeps progress and lines across a nack and a lease expiry; each line names its attempt", async () => {
    const q = unique("progress-retry");
    const first = await leasedTask(q, { maxAttempts: 5 }, { visibilityMs: 1_000 });
    await progress(q, first.id, { leaseId: first.leaseId, progress: { step: 1 } });
    await logs(q, first.id, { leaseId: first.leaseId, lines: ["one"] });
    const nacked = await call("POST", qpath(q, `/tasks/${first.id}/nack`), {
      leaseId: first.leaseId,
      delayMs: 0,
    });
    expect(nacked.body.state).toBe("ready");
    expect(await info(q, first.id)).toMatchObject({ state: "ready", progress: { step: 1 } });

    const [second] = await lease(q, { visibilityMs: 1_000 });
    expect(second).toMatchObject({ id: first.id, attempt: 2 });
    await logs(q, first.id, { leaseId: second?.leaseId, lines: ["two"] });
    // The lease runs out: the alarm (its time, the object's clock) gives the task back. It may
    // first ring for the earlier lease's expiry, find nothing due and re-aim.
    for (let ring = 0; ring < 3 && (await info(q, first.id)).state === "leased"; ring++) {
      expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    }
    expect(await info(q, first.id)).toMatchObject({ state: "ready", progress: { step: 1 } });

    const [third] = await lease(q);
    expect(third?.attempt).toBe(3);
    await progress(q, first.id, { leaseId: third?.leaseId, progress: { step: 3 } });
    await logs(q, first.id, { leaseId: third?.leaseId, lines: ["three"] });
    const task = await info(q, first.id);
    expect(task.progress).toEqual({ step: 3 });
    expect(task.logs?.map((l) => [l.attempt, l.line])).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    // The lines were just checked to be there.
    const times = (task.logs ?? []).map((l) => l.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("keeps them when the consumer socket that held the task closes", async () => {
    const q = unique("progress-socket");
    const { id, c, t } = await pushedTask(q);
    c.send({ type: "progress", id, leaseId: t.leaseId, progress: 0.5 });
    expect(await c.answer()).toEqual({ type: "progressed", id, progressAt: expect.any(Number) });
    c.send({ type: "log", id, leaseId: t.leaseId, lines: ["from the socket"] });
    expect(await c.answer()).toEqual({ type: "logged", id, appended: 1, kept: 1, dropped: 0 });
    c.close();
    await c.closed;
    const deadline = Date.now() + 5_000;
    while ((await info(q, id as string)).state !== "ready") {
      if (Date.now() > deadline) throw new Error("the closed socket's task did not come back");
      await scheduler.wait(10);
    }
    const task = await info(q, id as string);
    expect(task).toMatchObject({ progress: 0.5, logs: [{ attempt: 1, line: "from the socket" }] });
  });
});

describe("the bounded log", () => {
  it("keeps the newest 100 lines in order, counts the dropped ones, and its byte count stays exact", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
        async (batches) => {
          const q = unique("progress-bound");
          const t = await leasedTask(q, {}, { visibilityMs: 600_000 });
          let written = 0;
          for (const size of batches) {
            const lines = Array.from(
              { length: size },
              (_, i) => `line ${written + i}${"é".repeat((written + i) % 7)}`,
            );
            const res = await logs(q, t.id, { leaseId: t.leaseId, lines });
            written += size;
            const kept = Math.min(written, MAX_LOG_LINES_KEPT);
            expect(res.body).toEqual({ id: t.id, appended: size, kept, dropped: written - kept });
          }
          const task = await info(q, t.id);
          const kept = Math.min(written, MAX_LOG_LINES_KEPT);
          const want = Array.from({ length: kept }, (_, k) => written - kept + k).map(
            (n) => `line ${n}${"é".repeat(n % 7)}`,
          );
          expect(task.logs?.map((l) => l.line)).toEqual(want);
          if (written > kept) expect(task.logsDropped).toBe(written - kept);
          else expect(task).not.toHaveProperty("logsDropped");
          // The page budget reads log_bytes: it must equal what the kept rows hold.
          const { rows, task: row } = await logRows(q, Number(t.id));
          expect(rows).toHaveLength(kept);
          expect(row).toEqual({
            log_count: written,
            log_bytes: rows.reduce((sum, r) => sum + new TextEncoder().encode(r.entry).byteLength + 1, 0),
          });
        },
      ),
      { numRuns: 8 },
    );
  });

  it("counts toward a task list's 8 MiB page budget", async () => {
    const q = unique("progress-budget");
    const n = 90;
    await enqueue(q, { tasks: Array.from({ length: n }, (_, i) => ({ payload: i })) });
    const held = await lease(q, { max: n, visibilityMs: 600_000 });
    const lines = Array.from({ length: MAX_LOG_LINES_KEPT }, () => "x".repeat(MAX_LOG_LINE_BYTES));
    for (const t of held) {
      expect((await logs(q, t.id, { leaseId: t.leaseId, lines })).status).toBe(200);
    }
    const page = await call("GET", qpath(q, `/tasks?state=leased&limit=${n}`));
    expect(page.status).toBe(200);
    // About 103 KiB of log text a task: 8 MiB holds fewer than 90 of them.
    expect(page.body.tasks.length).toBeLessThan(n);
    expect(page.body.tasks.length).toBeGreaterThan(70);
    expect(page.body.cursor).not.toBeNull();
    expect(new TextEncoder().encode(page.text).byteLength).toBeLessThan(8 * 1024 * 1024 + 64 * 1024);
    const rest = await call("GET", qpath(q, `/tasks?state=leased&limit=${n}&cursor=${page.body.cursor}`));
    expect(page.body.tasks.length + rest.body.tasks.length).toBe(n);
  });

  it("goes with its task: deleting the queue leaves no log rows", async () => {
    const q = unique("progress-delete");
    const t = await leasedTask(q);
    await logs(q, t.id, { leaseId: t.leaseId, lines: ["a", "b"] });
    expect((await call("DELETE", qpath(q))).status).toBe(200);
    const left = await runInDurableObject(
      queueStub(q),
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM task_logs").one().n,
    );
    expect(left).toBe(0);
  });
});

describe("progress and logs on the consumer socket", () => {
  it("answers each in order, refuses a wrong lease or too large a value, and reads bad messages as bad", async () => {
    const q = unique("progress-ws");
    const { id, c, t } = await pushedTask(q);
    c.send({ type: "progress", id, leaseId: "wrong", progress: 1 });
    c.send({ type: "log", id, leaseId: t.leaseId, lines: ["ok"] });
    c.send({ type: "log", id: "424242", leaseId: t.leaseId, lines: ["ok"] });
    c.send({ type: "progress", id, leaseId: t.leaseId, progress: "x".repeat(MAX_PROGRESS_BYTES) });
    c.send({ type: "log", id, leaseId: t.leaseId, lines: [] });
    expect(await c.answer()).toMatchObject({ type: "error", id, error: { code: "lease_mismatch" } });
    expect(await c.answer()).toMatchObject({ type: "logged", id, appended: 1 });
    expect(await c.answer()).toMatchObject({ type: "error", id: "424242", error: { code: "not_found" } });
    expect(await c.answer()).toMatchObject({
      type: "error",
      id,
      error: { code: "payload_too_large", details: { field: "progress" } },
    });
    expect(await c.answer()).toMatchObject({
      type: "error",
      error: { code: "invalid_request", details: { field: "lines" } },
    });
    c.close();
  });
});

describe("access", () => {
  it("needs the consume action on the queue", async () => {
    const q = unique("progress-acl");
    const t = await leasedTask(q);
    const consume = await scoped(`queues:${q}`, "consume");
    const read = await scoped(`queues:${q}`, "read", "write", "admin");
    const elsewhere = await scoped(`queues:${q}-other`, "consume");
    expect((await progress(q, t.id, { leaseId: t.leaseId, progress: 1 }, consume)).status).toBe(200);
    expect((await logs(q, t.id, { leaseId: t.leaseId, lines: ["x"] }, consume)).status).toBe(200);
    for (const token of [read, elsewhere]) {
      expect((await progress(q, t.id, { leaseId: t.leaseId, progress: 2 }, token)).status).toBe(403);
      expect((await logs(q, t.id, { leaseId: t.leaseId, lines: ["y"] }, token)).status).toBe(403);
    }
    // The service binding checks a scoped token the same way.
    const asConsumer = await exports.SwitchyardRpc.queues({ token: consume });
    expect(await asConsumer.progress(q, t.id, { leaseId: t.leaseId, progress: 3 })).toMatchObject({
      ok: true,
    });
    const asReader = await exports.SwitchyardRpc.queues({ token: read });
    expect(await asReader.logs(q, t.id, { leaseId: t.leaseId, lines: ["z"] })).toMatchObject({
      ok: false,
      error: { code: "forbidden" },
    });
    expect(await asConsumer.logs(q, t.id, { leaseId: t.leaseId, lines: "z" })).toMatchObject({
      ok: false,
      error: { code: "invalid_request" },
    });
  });
});

/** The client's transports, and HTTP leases without the streaming socket. */
const TRANSPORTS: typeof CLIENT_TRANSPORTS = [
  ["HTTP leases", async () => clientOverHttpLeases()],
  ...CLIENT_TRANSPORTS,
];

describe.each(TRANSPORTS)("the typed client over %s", (_how, makeClient) => {
  it("gives handlers progress() and log(), and raw calls for leased tasks", async () => {
    const client = await makeClient();
    const q = unique("progress-client");
    const id = await client.enqueue(q, { payload: { rows: 3 } });
    const stop = new AbortController();
    const refused: unknown[] = [];
    const summary = await client.consume(
      q,
      async (_task, ctx) => {
        await ctx.progress({ done: 1, of: 3 });
        await ctx.log("row 1", "row 2");
        await ctx.progress({ done: 3, of: 3 });
        await ctx.log("x".repeat(MAX_LOG_LINE_BYTES + 1)).catch((err) => refused.push(err));
        stop.abort();
        return "ok";
      },
      { waitMs: 100, signal: stop.signal },
    );
    expect(summary).toEqual({ completed: 1, failed: 0, lost: 0 });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(ApiError);
    expect((refused[0] as ApiError).code).toBe("payload_too_large");
    const task = await client.task(q, id);
    expect(task).toMatchObject({ state: "completed", result: "ok", progress: { done: 3, of: 3 } });
    expect(task.logs?.map((l) => [l.attempt, l.line])).toEqual([
      [1, "row 1"],
      [1, "row 2"],
    ]);

    const other = await client.enqueue(q, { payload: 2 });
    const { tasks } = await client.transport.lease(q, {}).then((r) => (r.ok ? r.value : { tasks: [] }));
    const held = tasks[0];
    expect(held?.id).toBe(other);
    await client.progress(q, held as Leased, 42);
    await client.log(q, held as Leased, ["raw"]);
    expect(await client.task(q, other)).toMatchObject({
      progress: 42,
      logs: [{ attempt: 1, line: "raw" }],
    });
    await expect(client.progress(q, { id: other, leaseId: "nope" }, 1)).rejects.toMatchObject({
      code: "lease_mismatch",
    });
  });
});
