import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeenNames } from "../../../workers/catalog/seen.ts";

describe("SeenNames", () => {
  it("answers due once for a new name, then again only after refreshMs", () => {
    const seen = new SeenNames({ refreshMs: 1000 });
    expect(seen.due("a", 0)).toBe(true);
    expect(seen.due("a", 1)).toBe(false);
    expect(seen.due("a", 999)).toBe(false);
    expect(seen.due("b", 999)).toBe(true);
    expect(seen.due("a", 1000)).toBe(true);
    expect(seen.due("a", 1999)).toBe(false);
  });

  it("forgets a name on request, so the next sight is due", () => {
    const seen = new SeenNames();
    expect(seen.due("a", 0)).toBe(true);
    seen.forget("a");
    expect(seen.due("a", 1)).toBe(true);
    expect(seen.due("a", 2)).toBe(false);
  });

  it("drops the name written longest ago when full", () => {
    const seen = new SeenNames({ capacity: 2, refreshMs: 100 });
    seen.due("a", 0);
    seen.due("b", 1);
    seen.due("a", 100); // rewritten: now the most recent
    seen.due("c", 101); // evicts b
    expect(seen.size).toBe(2);
    expect(seen.due("a", 102)).toBe(false);
    expect(seen.due("b", 102)).toBe(true);
  });

  it("never holds more than its capacity, and a name it holds is not due before refreshMs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "d", "e", "f"), fc.integer({ min: 0, max: 50 }))),
        (capacity, steps) => {
          const seen = new SeenNames({ capacity, refreshMs: 20 });
          const lastWrite = new Map<string, number>();
          let now = 0;
          for (const [name, dt] of steps) {
            now += dt;
            const due = seen.due(name, now);
            const last = lastWrite.get(name);
            // Not due means a write of this name happened less than refreshMs ago.
            if (!due) expect(last !== undefined && now - last < 20).toBe(true);
            if (due) lastWrite.set(name, now);
            expect(seen.size).toBeLessThanOrEqual(capacity);
          }
        },
      ),
    );
  });
});
