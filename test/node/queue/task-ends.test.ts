import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TaskEnds } from "../../../durable-objects/queue/task-ends.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";

/** A wait, and whether it has been resolved yet. */
function tracked(ends: TaskEnds, seq: number, ms: number) {
  const state = { woken: false };
  const wait = ends.wait(seq, ms);
  void wait?.then(() => {
    state.woken = true;
  });
  return { state, held: wait !== undefined };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TaskEnds", () => {
  it("wakes a task's waiters once the operation that touched it commits, not when it rolls back", async () => {
    const ends = new TaskEnds(() => new ManualClock());
    const a = tracked(ends, 1, 10_000);
    const b = tracked(ends, 1, 10_000);
    const other = tracked(ends, 2, 10_000);
    ends.touched(1);
    ends.rolledBack();
    ends.committed();
    await settle();
    expect([a.state.woken, b.state.woken]).toEqual([false, false]);
    ends.touched(1);
    await settle();
    expect(a.state.woken).toBe(false);
    ends.committed();
    await settle();
    expect([a.state.woken, b.state.woken, other.state.woken]).toEqual([true, true, false]);
    expect(ends.size).toBe(1);
  });

  it("lets a wait go when its time is up, and holds no more than its limit", async () => {
    const clock = new ManualClock();
    const ends = new TaskEnds(() => clock, 2);
    const short = tracked(ends, 1, 100);
    const long = tracked(ends, 2, 1_000);
    expect(tracked(ends, 3, 1_000).held).toBe(false);
    clock.advance(100);
    await settle();
    expect([short.state.woken, long.state.woken]).toEqual([true, false]);
    expect(tracked(ends, 3, 1_000).held).toBe(true);
    ends.wakeAll();
    await settle();
    expect(long.state.woken).toBe(true);
    expect([ends.size, clock.pending]).toEqual([0, 0]);
  });

  it("wakes every wait by its deadline and keeps no wait or timer after it (property)", async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("wait" as const), seq: fc.nat(4), ms: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant("touch" as const), seq: fc.nat(4) }),
      fc.record({ kind: fc.constantFrom("commit" as const, "rollback" as const, "wakeAll" as const) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 300 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const clock = new ManualClock();
        const ends = new TaskEnds(() => clock, 8);
        const waits: Array<{ state: { woken: boolean }; by: number }> = [];
        for (const s of steps) {
          if (s.kind === "wait") {
            const w = tracked(ends, s.seq, s.ms);
            if (w.held) waits.push({ state: w.state, by: clock.now() + s.ms });
          } else if (s.kind === "touch") ends.touched(s.seq);
          else if (s.kind === "commit") ends.committed();
          else if (s.kind === "rollback") ends.rolledBack();
          else if (s.kind === "wakeAll") ends.wakeAll();
          else if (s.kind === "advance") clock.advance(s.ms);
          await settle();
          for (const w of waits) if (clock.now() >= w.by) expect(w.state.woken).toBe(true);
          expect(ends.size).toBe(waits.filter((w) => !w.state.woken).length);
          expect(ends.size).toBeLessThanOrEqual(8);
        }
        clock.advance(500);
        await settle();
        expect(waits.every((w) => w.state.woken)).toBe(true);
        expect([ends.size, clock.pending]).toEqual([0, 0]);
      }),
      { numRuns: 200 },
    );
  });
});
