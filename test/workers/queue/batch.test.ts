import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, stats, twoLeased } from "./queue-helpers.ts";

// Batches go to SQLite as one statement per run of tasks (rows packed in a JSON array): these
// check that the packing keeps payloads, order, dedup keys and per-ack outcomes exact.
describe("batched statements", () => {
  it("keeps every payload exactly and the ids in the order of the tasks", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 30 }), async (payloads) => {
        const q = unique("q");
        // JSON has no -0: what goes over HTTP is the parsed text, so compare against that.
        const sent = JSON.parse(JSON.stringify(payloads)) as unknown[];
        const ids = await enqueue(q, { tasks: sent.map((payload) => ({ payload })) });
        expect(ids.map(Number)).toEqual(ids.map((_, i) => Number(ids[0]) + i));
        const leased = await lease(q, { max: 100 });
        expect(leased.map((t) => t.id)).toEqual(ids);
        expect(leased.map((t) => t.payload)).toEqual(sent);
      }),
      { numRuns: 15 },
    );
  });

  it("answers a key taken earlier in the same batch with that task's id, between unkeyed runs", async () => {
    const q = unique("q");
    const ids = await enqueue(q, {
      tasks: [
        { payload: "a" },
        { payload: "b", dedupKey: "k" },
        { payload: "c" },
        { payload: "d", dedupKey: "k" },
        { payload: "e", dedupKey: "other" },
        { payload: "f" },
      ],
    });
    expect(ids).toEqual(["1", "2", "3", "2", "4", "5"]);
    const leased = await lease(q, { max: 10 });
    expect(leased.map((t) => t.payload)).toEqual(["a", "b", "c", "e", "f"]);
    expect((await stats(q)).totals.enqueued).toBe(5);
  });

  it("acks a task listed twice in one batch once, and keeps the first ack's result", async () => {
    const { q, a, b } = await twoLeased();
    const res = await call("POST", qpath(q, "/ack"), {
      acks: [
        { id: a?.id, leaseId: a?.leaseId, result: { sent: "a\"'\\ é" } },
        { id: a?.id, leaseId: a?.leaseId, result: "again" },
        { id: b?.id, leaseId: b?.leaseId },
        { id: "not-an-id", leaseId: "x" },
      ],
    });
    expect(res.body.results).toEqual([
      { id: a?.id, ok: true },
      { id: a?.id, ok: true },
      { id: b?.id, ok: true },
      { id: "not-an-id", ok: false, code: "not_found" },
    ]);
    expect((await call("GET", qpath(q, `/tasks/${a?.id}`))).body).toMatchObject({
      state: "completed",
      result: { sent: "a\"'\\ é" },
    });
    const taskB = (await call("GET", qpath(q, `/tasks/${b?.id}`))).body;
    expect(taskB.state).toBe("completed");
    expect(taskB).not.toHaveProperty("result");
    expect(await stats(q)).toMatchObject({ completed: 2, leased: 0, totals: { completed: 2 } });
  });

  it("answers a batch of acks as acking them one by one, in order, would", async () => {
    const ackArb = fc.record({
      target: fc.nat({ max: 6 }),
      rightLease: fc.boolean(),
      result: fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(ackArb, { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat({ max: 4 }), { maxLength: 2 }),
        async (n, acks, expire) => {
          const q = unique("q");
          await enqueue(q, { tasks: Array.from({ length: n }, (_, i) => ({ payload: i })) });
          const leased = await lease(q, { max: n });
          // An expired lease the alarm has not yet recovered (the alarm rings at the original expiry).
          const expired = new Set(expire.filter((i) => i < n));
          await runInDurableObject(queueStub(q), (_instance, state) => {
            for (const i of expired) {
              state.storage.sql.exec(
                "UPDATE tasks SET lease_expires_at = 1 WHERE seq = ?",
                Number(leased[i]?.id),
              );
            }
          });
          // The model: acks applied one at a time, in order. Target n is a task that does not exist.
          const sent = JSON.parse(JSON.stringify(acks)) as typeof acks;
          const completed = new Map<number, unknown>();
          const expected = sent.map(({ target, rightLease, result }) => {
            const id = target < n ? (leased[target]?.id as string) : "999999";
            if (target >= n) return { id, ok: false, code: "not_found" };
            // A repeat with the lease that completed the task holds again, and keeps the first result.
            if (rightLease && completed.has(target)) return { id, ok: true };
            if (!rightLease || expired.has(target) || completed.has(target)) {
              return { id, ok: false, code: "lease_mismatch" };
            }
            completed.set(target, result);
            return { id, ok: true };
          });
          const res = await call("POST", qpath(q, "/ack"), {
            acks: sent.map(({ target, rightLease, result }) => ({
              id: target < n ? leased[target]?.id : "999999",
              leaseId: rightLease && target < n ? leased[target]?.leaseId : "not-the-lease",
              result,
            })),
          });
          expect(res.body.results).toEqual(expected);
          for (const [i, task] of leased.entries()) {
            const info = (await call("GET", qpath(q, `/tasks/${task.id}`))).body;
            expect(info.state).toBe(completed.has(i) ? "completed" : "leased");
            const result = completed.get(i);
            if (result === undefined) expect(info).not.toHaveProperty("result");
            else expect(info.result).toEqual(result);
          }
          expect(await stats(q)).toMatchObject({ completed: completed.size, leased: n - completed.size });
        },
      ),
      { numRuns: 25 },
    );
  });
});
