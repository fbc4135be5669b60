import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRIORITIES, TASK_STATES } from "../../../durable-objects/logic/queue-rules.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, type StoredTask, storedTasks } from "./queue-helpers.ts";

const step = fc.oneof(
  fc.record({
    kind: fc.constant("enqueue" as const),
    n: fc.integer({ min: 1, max: 4 }),
    priority: fc.constantFrom(...PRIORITIES),
    delayed: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("promote" as const), pick: fc.nat(), unknown: fc.boolean() }),
  fc.record({ kind: fc.constant("lease" as const), max: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("ack" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("alarm" as const) }),
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

interface Model {
  ids: string[];
  held: Array<{ id: string; leaseId: string }>;
}

async function apply(q: string, m: Model, s: Step): Promise<void> {
  switch (s.kind) {
    case "enqueue": {
      const tasks = Array.from({ length: s.n }, (_, i) => ({
        payload: { i },
        priority: s.priority,
        delayMs: s.delayed ? 600_000 : 0,
      }));
      m.ids.push(...(await enqueue(q, { tasks })));
      return;
    }
    case "promote": {
      const id = s.unknown || m.ids.length === 0 ? "999999" : (m.ids[s.pick % m.ids.length] as string);
      const before = (await storedTasks(q)).find((r) => String(r.seq) === id);
      const res = await call("POST", qpath(q, `/tasks/${id}/promote`));
      if (!before) {
        expect(res.status).toBe(404);
      } else if (before.state === "delayed") {
        expect(res.body).toEqual({ id, state: "ready" });
        const after = (await storedTasks(q)).find((r) => String(r.seq) === id);
        expect(after).toMatchObject({ state: "ready", priority: before.priority, attempt: before.attempt });
      } else {
        expect(res.status).toBe(409);
        expect(res.error?.details?.state).toBe(before.state);
      }
      return;
    }
    case "lease": {
      const before = await storedTasks(q);
      const expected = before
        .filter((r) => r.state === "ready")
        .sort(leaseOrder)
        .slice(0, s.max);
      const taken = await lease(q, { max: s.max, visibilityMs: 60_000 });
      // A lease takes the head of the ready list, which a promoted task joins at its own priority.
      expect(taken.map((t) => t.id)).toEqual(expected.map((r) => String(r.seq)));
      m.held.push(...taken.map((t) => ({ id: t.id, leaseId: t.leaseId })));
      return;
    }
    case "ack": {
      if (m.held.length === 0) return;
      const [h] = m.held.splice(s.pick % m.held.length, 1) as [{ id: string; leaseId: string }];
      const res = await call("POST", qpath(q, `/tasks/${h.id}/ack`), { leaseId: h.leaseId });
      // 409 when an alarm run expired the lease meanwhile.
      expect([200, 409]).toContain(res.status);
      return;
    }
    case "alarm":
      await runDurableObjectAlarm(queueStub(q));
      return;
  }
}

const list = (q: string, query: string) => call("GET", qpath(q, `/tasks?${query}`));

const leaseOrder = (a: StoredTask, b: StoredTask) =>
  b.priority - a.priority || a.available_at - b.available_at || a.seq - b.seq;

/** Every state's list, followed page by page, holds exactly that state's tasks in its order. */
async function checkLists(q: string, limit: number): Promise<void> {
  const rows = await storedTasks(q);
  for (const state of TASK_STATES) {
    const expected = rows
      .filter((r) => r.state === state)
      .sort(state === "ready" ? leaseOrder : (a, b) => a.seq - b.seq);
    const listed: string[] = [];
    let cursor: string | null = "";
    for (let page = 0; cursor !== null; page++) {
      expect(page).toBeLessThan(50);
      const res = await list(q, `state=${state}&limit=${limit}&cursor=${cursor}`);
      expect(res.status, res.text).toBe(200);
      for (const t of res.body.tasks) expect(t.state).toBe(state);
      listed.push(...res.body.tasks.map((t) => t.id));
      cursor = res.body.cursor;
    }
    expect(listed, `${state} list`).toEqual(expected.map((r) => String(r.seq)));
  }
  const stats = (await call("GET", qpath(q, "/stats"))).body;
  expect(stats.delayed).toBe(rows.filter((r) => r.state === "delayed").length);
  const ready = rows.filter((r) => r.state === "ready");
  expect(Object.values(stats.ready).reduce((a, b) => a + b, 0)).toBe(ready.length);
}

describe("promote and task lists under random operations", () => {
  it("promotes exactly the delayed tasks, and every list matches the stored tasks in its order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 4 }),
        async (steps, limit) => {
          const q = unique("opprop");
          const m: Model = { ids: [], held: [] };
          for (const s of steps) {
            await apply(q, m, s);
            await checkLists(q, limit);
          }
        },
      ),
      { numRuns: 10 },
    );
  }, 60_000);
});
