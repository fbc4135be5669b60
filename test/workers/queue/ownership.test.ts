import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRIORITIES } from "../../../durable-objects/logic/queue-rules.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub, type StoredTask, storedTasks } from "./queue-helpers.ts";

const step = fc.oneof(
  fc.record({
    kind: fc.constant("enqueue" as const),
    n: fc.integer({ min: 1, max: 4 }),
    priority: fc.constantFrom(...PRIORITIES),
    delayed: fc.boolean(),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("lease" as const), max: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("ack" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("nack" as const), pick: fc.nat(), retry: fc.boolean(), now: fc.boolean() }),
  fc.record({ kind: fc.constant("staleAck" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("alarm" as const) }),
  fc.record({ kind: fc.constant("restart" as const) }),
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

/** What the consumers believe: the leases they were handed, and what they saw complete. */
interface Model {
  ids: Set<string>;
  /** Every lease ever handed out, newest last. */
  leases: Array<{ id: string; leaseId: string }>;
  /** Leases not yet given back by ack or nack (some may have expired on the server). */
  held: Array<{ id: string; leaseId: string }>;
  completed: Set<string>;
}

const taskPath = (q: string, id: string, verb: string) => qpath(q, `/tasks/${id}/${verb}`);

async function apply(q: string, m: Model, s: Step): Promise<void> {
  switch (s.kind) {
    case "enqueue": {
      const tasks = Array.from({ length: s.n }, (_, i) => ({
        payload: i,
        priority: s.priority,
        maxAttempts: s.maxAttempts,
        delayMs: s.delayed ? 5_000 : 0,
      }));
      for (const id of await enqueue(q, { tasks })) m.ids.add(id);
      return;
    }
    case "lease": {
      // Leases last a minute: only alarm runs (not the wall clock) end them in this test.
      const before = await storedTasks(q);
      const taken = await lease(q, { max: s.max, visibilityMs: 60_000 });
      for (const t of taken) {
        const prior = before.find((r) => String(r.seq) === t.id);
        // No double ownership: a task is handed out only when nobody holds it.
        expect(prior?.state, `task ${t.id} leased while ${prior?.state}`).toBe("ready");
        m.leases.push({ id: t.id, leaseId: t.leaseId });
        m.held.push({ id: t.id, leaseId: t.leaseId });
      }
      return;
    }
    case "ack":
    case "nack": {
      if (m.held.length === 0) return;
      const [h] = m.held.splice(s.pick % m.held.length, 1) as [{ id: string; leaseId: string }];
      const body =
        s.kind === "ack"
          ? { leaseId: h.leaseId }
          : { leaseId: h.leaseId, retry: s.retry, ...(s.now ? { delayMs: 0 } : {}) };
      const res = await call("POST", taskPath(q, h.id, s.kind), body);
      // 409 only when the lease expired on an alarm run meanwhile.
      expect([200, 409], res.text).toContain(res.status);
      if (s.kind === "ack" && res.status === 200) m.completed.add(h.id);
      return;
    }
    case "staleAck": {
      if (m.leases.length === 0) return;
      const old = m.leases[s.pick % m.leases.length] as { id: string; leaseId: string };
      const current = (await storedTasks(q)).find((r) => String(r.seq) === old.id);
      if (current?.state === "leased" && current.lease_id === old.leaseId) return;
      const res = await call("POST", taskPath(q, old.id, "ack"), { leaseId: old.leaseId });
      // 200 only for a retried ack of the lease that completed the task.
      const completedByIt = current?.state === "completed" && current.lease_id === old.leaseId;
      expect(completedByIt ? [200] : [404, 409]).toContain(res.status);
      return;
    }
    case "alarm":
      await runDurableObjectAlarm(queueStub(q));
      return;
    case "restart":
      await call("GET", qpath(q, "/stats"));
      await evictDurableObject(queueStub(q));
      return;
  }
}

/** After every step: one state per task, stats equal to a recount, leases well-formed. */
async function checkInvariants(q: string, m: Model): Promise<StoredTask[]> {
  const rows = await storedTasks(q);
  const byId = new Map(rows.map((r) => [String(r.seq), r]));
  expect(rows.length).toBe(byId.size);
  for (const id of m.ids) {
    // Only completed tasks may be gone: retention removes them.
    if (!byId.has(id)) expect(m.completed.has(id), `task ${id} lost`).toBe(true);
  }
  const recount = { ready: [0, 0, 0, 0], delayed: 0, leased: 0, completed: 0, dead: 0 };
  for (const r of rows) {
    expect(["ready", "delayed", "leased", "completed", "dead"]).toContain(r.state);
    // A completed task keeps the lease that completed it.
    expect(r.lease_id !== null, `lease fields of ${r.seq} in ${r.state}`).toBe(
      r.state === "leased" || r.state === "completed",
    );
    expect(r.lease_expires_at !== null).toBe(r.state === "leased");
    expect(r.attempt).toBeLessThanOrEqual(r.max_attempts);
    if (r.state === "ready") (recount.ready[r.priority] as number)++;
    else recount[r.state as "delayed" | "leased" | "completed" | "dead"]++;
  }
  const stats = (await call("GET", qpath(q, "/stats"))).body;
  expect(stats.ready).toEqual({
    low: recount.ready[0],
    normal: recount.ready[1],
    high: recount.ready[2],
    critical: recount.ready[3],
  });
  expect([stats.delayed, stats.leased, stats.completed, stats.dead]).toEqual([
    recount.delayed,
    recount.leased,
    recount.completed,
    recount.dead,
  ]);
  expect(stats.totals.enqueued).toBe(m.ids.size);
  // A lease id is never handed out twice, so one task cannot have two live holders.
  expect(new Set(m.leases.map((l) => l.leaseId)).size).toBe(m.leases.length);
  return rows;
}

/** Consumes until nothing is ready, delayed or leased: every task must end completed or dead. */
async function drain(q: string, m: Model): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    const live =
      stats.delayed +
      stats.leased +
      Object.values(stats.ready as Record<string, number>).reduce((a, b) => a + b, 0);
    if (live === 0) break;
    const taken = await lease(q, { max: 100, visibilityMs: 60_000 });
    if (taken.length === 0) {
      await runDurableObjectAlarm(queueStub(q));
      continue;
    }
    const res = await call("POST", qpath(q, "/ack"), {
      acks: taken.map((t) => ({ id: t.id, leaseId: t.leaseId })),
    });
    for (const r of res.body.results) {
      expect(r.ok).toBe(true);
      m.completed.add(r.id);
    }
  }
  const rows = await checkInvariants(q, m);
  for (const r of rows) expect(["completed", "dead"]).toContain(r.state);
}

describe("no loss, no double ownership", () => {
  it("keeps every task in exactly one state, stats exact, through any mix of operations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const q = unique("own");
        const m: Model = { ids: new Set(), leases: [], held: [], completed: new Set() };
        for (const s of steps) {
          await apply(q, m, s);
          await checkInvariants(q, m);
        }
        await drain(q, m);
      }),
      { numRuns: 12 },
    );
    // Property runs make many requests: room for a loaded CI machine.
  }, 30_000);
});
