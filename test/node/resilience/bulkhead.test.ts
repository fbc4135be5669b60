import { describe, expect, it } from "vitest";
import { BulkheadRejectedError, bulkhead } from "../../../shared/resilience/index.ts";

/** A task that runs until `finish()` is called. */
function gate() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { done, finish };
}

describe("bulkhead", () => {
  it("runs up to limit, queues up to queue, and rejects beyond", async () => {
    const pool = bulkhead(2, 1);
    const started: number[] = [];
    const gates = [gate(), gate(), gate()];
    const runs = gates.map((g, i) =>
      pool.execute(async () => {
        started.push(i);
        await g.done;
        return i;
      }),
    );
    await expect.poll(() => started).toEqual([0, 1]);
    expect(pool.executionSlots).toBe(0);
    expect(pool.queueSlots).toBe(0);
    await expect(pool.execute(async () => "x")).rejects.toEqual(new BulkheadRejectedError(2, 1));
    gates[0]?.finish();
    await expect.poll(() => started).toEqual([0, 1, 2]);
    gates[1]?.finish();
    gates[2]?.finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(pool.executionSlots).toBe(2);
  });

  it("never runs more than limit at once while slots change hands", async () => {
    const pool = bulkhead(3, 100);
    let running = 0;
    let peak = 0;
    const tasks = Array.from({ length: 50 }, (_, i) =>
      pool.execute(async () => {
        running++;
        peak = Math.max(peak, running);
        for (let k = 0; k < i % 4; k++) await Promise.resolve();
        running--;
      }),
    );
    await Promise.all(tasks);
    expect(peak).toBe(3);
  });

  it("frees the slot when the task throws", async () => {
    const pool = bulkhead(1);
    await expect(pool.execute(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await pool.execute(() => "next")).toBe("next");
  });

  it("leaves the queue at once when the waiting caller aborts", async () => {
    const pool = bulkhead(1, 1);
    const g = gate();
    const first = pool.execute(() => g.done);
    const caller = new AbortController();
    const waiting = pool.execute(() => "never", caller.signal);
    expect(pool.queueSlots).toBe(0);
    caller.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(pool.queueSlots).toBe(1);
    g.finish();
    await first;
    expect(pool.executionSlots).toBe(1);
  });

  it("refuses bad limits", () => {
    expect(() => bulkhead(0)).toThrow(RangeError);
    expect(() => bulkhead(1, -1)).toThrow(RangeError);
  });
});
