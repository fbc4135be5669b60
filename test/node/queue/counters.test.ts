import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptySnapshot, QueueCounters } from "../../../durable-objects/logic/queue-counters.ts";
import {
  type Place,
  PRIORITIES,
  type Priority,
  type TaskEvent,
  type TaskState,
  TRANSITIONS,
} from "../../../durable-objects/logic/queue-rules.ts";

const events = Object.keys(TRANSITIONS) as TaskEvent[];

describe("queue counters", () => {
  it("refuse an illegal move", () => {
    const c = new QueueCounters();
    expect(() => c.move("ack", "normal", "ready", "completed")).toThrow(/illegal move/);
  });

  it("report changes once", () => {
    const c = new QueueCounters();
    expect(c.takeChanges()).toBeUndefined();
    c.move("enqueue", "high", null, "ready", 3);
    expect(c.takeChanges()?.counts.ready.high).toBe(3);
    expect(c.takeChanges()).toBeUndefined();
  });

  it("always match a recount of a model's tasks, and totals match the events", () => {
    // A model: tasks with a priority and a place; random legal moves applied to both.
    const step = fc.record({
      pick: fc.nat(),
      event: fc.constantFrom(...events),
      choice: fc.nat(),
      priority: fc.constantFrom(...PRIORITIES),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const tasks: Array<{ priority: Priority; place: Place }> = [];
        const c = new QueueCounters();
        const happened = { enqueue: 0, retry: 0, expire: 0, completed: 0, dead: 0 };
        for (const s of steps) {
          const moves = TRANSITIONS[s.event];
          const [from, to] = moves[s.choice % moves.length] as readonly [Place, Place];
          let priority = s.priority;
          if (from === null) {
            tasks.push({ priority, place: to });
          } else {
            const candidates = tasks.filter((t) => t.place === from);
            const task = candidates[s.pick % Math.max(1, candidates.length)];
            if (!task) continue;
            priority = task.priority;
            task.place = to;
          }
          c.move(s.event, priority, from, to);
          if (s.event === "enqueue") happened.enqueue++;
          if (s.event === "retry") happened.retry++;
          if (s.event === "expire") happened.expire++;
          if (to === "completed") happened.completed++;
          if (to === "dead") happened.dead++;
        }
        const expected = emptySnapshot();
        for (const t of tasks) {
          if (t.place === null) continue;
          if (t.place === "ready") expected.counts.ready[t.priority]++;
          else expected.counts[t.place as Exclude<TaskState, "ready">]++;
        }
        const snap = c.snapshot();
        expect(snap.counts).toEqual(expected.counts);
        expect(snap.totals).toEqual({
          enqueued: happened.enqueue,
          completed: happened.completed,
          retried: happened.retry,
          dead: happened.dead,
          recovered: happened.expire,
        });
        expect(c.readyTotal).toBe(PRIORITIES.reduce((n, p) => n + expected.counts.ready[p], 0));
      }),
    );
  });
});
