import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entriesToDrop, resumePlan } from "../../../durable-objects/logic/change-log.ts";

describe("entriesToDrop", () => {
  const bounds = { maxEntries: 3, maxBytes: 100 };

  it("drops nothing within bounds", () => {
    expect(entriesToDrop({ entries: 3, bytes: 100 }, [10, 10, 10], bounds)).toBe(0);
  });

  it("drops the oldest entries until both bounds hold", () => {
    expect(entriesToDrop({ entries: 5, bytes: 50 }, [10, 10, 10, 10, 10], bounds)).toBe(2);
    expect(entriesToDrop({ entries: 3, bytes: 150 }, [60, 10, 80], bounds)).toBe(1);
    expect(entriesToDrop({ entries: 3, bytes: 150 }, [10, 10, 130], bounds)).toBe(3);
  });

  it("asks for more when every given entry must go", () => {
    expect(entriesToDrop({ entries: 10, bytes: 10 }, [1, 1], bounds)).toBe(2);
  });

  it("always leaves the log within bounds once the caller has given it every entry", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 30 }), (sizes) => {
        const totals = { entries: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) };
        const drop = entriesToDrop(totals, sizes, bounds);
        const kept = sizes.slice(drop);
        expect(kept.length).toBeLessThanOrEqual(bounds.maxEntries);
        expect(kept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(bounds.maxBytes);
        // Minimal: keeping one more entry would break a bound.
        if (drop > 0) {
          const more = sizes.slice(drop - 1);
          const fits = more.length <= bounds.maxEntries && more.reduce((a, b) => a + b, 0) <= bounds.maxBytes;
          expect(fits).toBe(false);
        }
      }),
    );
  });
});

describe("resumePlan", () => {
  it("is live without fromVersion or when fromVersion is current or ahead", () => {
    expect(resumePlan(undefined, 0, 10)).toEqual({ kind: "live" });
    expect(resumePlan(10, 0, 10)).toEqual({ kind: "live" });
    expect(resumePlan(12, 0, 10)).toEqual({ kind: "live" });
  });

  it("replays while the changes after fromVersion are retained", () => {
    expect(resumePlan(0, 0, 10)).toEqual({ kind: "replay", after: 0 });
    expect(resumePlan(4, 4, 10)).toEqual({ kind: "replay", after: 4 });
  });

  it("resets at the current version when some are gone", () => {
    expect(resumePlan(3, 4, 10)).toEqual({ kind: "reset", version: 10 });
    expect(resumePlan(0, 1, 10)).toEqual({ kind: "reset", version: 10 });
  });
});
