import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TaskEnds } from "../../../durable-objects/queue/task-ends.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";

/** A wait, and what it resolved to once it has (`woken`). */
function tracked(ends: TaskEnds<string>, seq: number, ms: number, ticket?: string) {
  const state: { woken: boolean; read?: string } = { woken: false };
  const wait = ends.wait(seq, ms, ticket);
  void wait?.then((read) => {
    state.woken = true;
    state.read = read;
  });
  return { state, held: wait !== undefined };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A read of task `seq` that counts how often it ran. */
function counted() {
  const reads: number[] = [];
  const read = (seq: number) => {
    reads.push(seq);
    return `task ${seq}`;
  };
  return { reads, read };
}

describe("TaskEnds", () => {
  it("wakes a task's waiters with one shared read once the operation that touched it commits, not when it rolls back", async () => {
    const ends = new TaskEnds<string>(() => new ManualClock());
    const a = tracked(ends, 1, 10_000);
    const b = tracked(ends, 1, 10_000);
    const other = tracked(ends, 2, 10_000);
    const { reads, read } = counted();
    ends.touched(1);
    ends.rolledBack();
    ends.committed(read);
    await settle();
    expect([a.state.woken, b.state.woken, reads]).toEqual([false, false, []]);
    ends.touched(1);
    ends.touched(3);
    await settle();
    expect(a.state.woken).toBe(false);
    ends.committed(read);
    await settle();
    expect([a.state.read, b.state.read, other.state.woken]).toEqual(["task 1", "task 1", false]);
    expect(reads).toEqual([1]);
    expect(ends.size).toBe(1);
  });

  it("lets a wait go when its time is up or its caller leaves, and holds no more than its limit", async () => {
    const clock = new ManualClock();
    const ends = new TaskEnds<string>(() => clock, 3);
    const short = tracked(ends, 1, 100);
    const long = tracked(ends, 2, 1_000);
    const leaving = tracked(ends, 2, 1_000, "t1");
    expect(tracked(ends, 3, 1_000).held).toBe(false);
    expect(ends.leave("t1")).toBe(true);
    expect(ends.leave("t1")).toBe(false);
    clock.advance(100);
    await settle();
    expect([short.state, leaving.state, long.state.woken]).toEqual([
      { woken: true, read: undefined },
      { woken: true, read: undefined },
      false,
    ]);
    expect(tracked(ends, 3, 1_000).held).toBe(true);
    ends.touchAll();
    ends.committed(counted().read);
    await settle();
    expect(long.state.read).toBe("task 2");
    expect([ends.size, clock.pending]).toEqual([0, 0]);
  });

  it("settles every wait once, by its deadline, and keeps no wait or timer after it (property)", async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("wait" as const), seq: fc.nat(4), ms: fc.integer({ min: 1, max: 500 }) }),
      fc.record({ kind: fc.constant("touch" as const), seq: fc.nat(4) }),
      fc.record({ kind: fc.constant("leave" as const), ticket: fc.nat(20) }),
      fc.record({ kind: fc.constantFrom("commit" as const, "rollback" as const, "touchAll" as const) }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 300 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
        const clock = new ManualClock();
        const ends = new TaskEnds<string>(() => clock, 8);
        const { reads, read } = counted();
        const waits: Array<{ state: { woken: boolean }; by: number }> = [];
        for (const [i, s] of steps.entries()) {
          if (s.kind === "wait") {
            const w = tracked(ends, s.seq, s.ms, String(i));
            if (w.held) waits.push({ state: w.state, by: clock.now() + s.ms });
          } else if (s.kind === "touch") ends.touched(s.seq);
          else if (s.kind === "leave") ends.leave(String(s.ticket));
          else if (s.kind === "commit") {
            const before = reads.length;
            ends.committed(read);
            // One read per woken task, however many wait on it.
            expect(new Set(reads.slice(before)).size).toBe(reads.length - before);
          } else if (s.kind === "rollback") ends.rolledBack();
          else if (s.kind === "touchAll") ends.touchAll();
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
