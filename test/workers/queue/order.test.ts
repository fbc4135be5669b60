import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leaseOrder, PRIORITIES, priorityRank } from "../../../durable-objects/logic/queue-rules.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath, queueStub } from "./queue-helpers.ts";

const task = fc.record({
  priority: fc.constantFrom(...PRIORITIES),
  delayMs: fc.oneof(fc.constant(0), fc.integer({ min: 1_000, max: 60_000 })),
});

describe("lease order", () => {
  it("takes the highest priority first and, within it, the task ready the longest", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(task, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }),
        async (batches, leaseSizes) => {
          const q = unique("order");
          const expected: Array<{ id: string; rank: number; availableAt: number; seq: number }> = [];
          // Batches go in one after another, so enqueue times differ between them.
          for (const batch of batches) {
            const ids = await enqueue(q, { tasks: batch.map((t) => ({ payload: null, ...t })) });
            for (const [i, id] of ids.entries()) {
              const info = await call("GET", qpath(q, `/tasks/${id}`));
              const t = batch[i] as (typeof batch)[number];
              expected.push({
                id,
                rank: priorityRank(t.priority),
                availableAt: info.body.enqueuedAt + t.delayMs,
                seq: Number(id),
              });
            }
          }
          // Every delay ends: each alarm run makes the earliest due tasks ready.
          while ((await call("GET", qpath(q, "/stats"))).body.delayed > 0) {
            expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
          }
          const order: string[] = [];
          for (let i = 0; order.length < expected.length; i++) {
            const max = leaseSizes[i % leaseSizes.length] as number;
            const got = await lease(q, { max });
            expect(got.length).toBeGreaterThan(0);
            order.push(...got.map((t) => t.id));
          }
          expect(order).toEqual(expected.sort(leaseOrder).map((t) => t.id));
        },
      ),
      { numRuns: 15 },
    );
    // Property runs make many requests: room for a loaded CI machine.
  }, 30_000);
});
