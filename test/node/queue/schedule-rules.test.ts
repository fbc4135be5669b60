import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Cadence,
  cronProblem,
  decide,
  LATE_MS,
  lastAtOrBefore,
  nextAfter,
  runKey,
  upcoming,
  zoneProblem,
} from "../../../durable-objects/logic/schedule-rules.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const berlin = (cron: string): Cadence => ({ kind: "cron", cron, timezone: "Europe/Berlin" });
const HOUR = 3_600_000;

describe("schedule times", () => {
  it("reads a cron expression in its zone (09:00 Berlin is 08:00 UTC in winter)", () => {
    const runs = upcoming(berlin("0 9 * * 1-5"), at("2027-01-01T12:00:00Z"), 3);
    // 2027-01-01 is a Friday: the next weekdays are Monday 4th, Tuesday 5th, Wednesday 6th.
    expect(runs.map(iso)).toEqual([
      "2027-01-04T08:00:00.000Z",
      "2027-01-05T08:00:00.000Z",
      "2027-01-06T08:00:00.000Z",
    ]);
  });

  it("spring forward: a fixed-time job in the gap runs right after it, an hourly job skips the gap", () => {
    // Berlin, 2027-03-28: 02:00 CET becomes 03:00 CEST.
    const daily = upcoming(berlin("30 2 * * *"), at("2027-03-26T12:00:00Z"), 3).map(iso);
    expect(daily).toEqual([
      "2027-03-27T01:30:00.000Z", // 02:30 CET
      "2027-03-28T01:00:00.000Z", // 02:30 does not exist: 03:00 CEST, the first time after the gap
      "2027-03-29T00:30:00.000Z", // 02:30 CEST
    ]);
    const hourly = upcoming(berlin("0 * * * *"), at("2027-03-27T23:30:00Z"), 3).map(iso);
    expect(hourly).toEqual([
      "2027-03-28T00:00:00.000Z", // 01:00 CET
      "2027-03-28T01:00:00.000Z", // 03:00 CEST: local 02:00 does not exist
      "2027-03-28T02:00:00.000Z",
    ]);
  });

  it("fall back: a fixed-time job runs once in the repeated hour, an hourly job on both passes", () => {
    // Berlin, 2027-10-31: 03:00 CEST becomes 02:00 CET.
    const daily = upcoming(berlin("30 2 * * *"), at("2027-10-30T12:00:00Z"), 2).map(iso);
    expect(daily).toEqual(["2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
    const hourly = upcoming(berlin("0 * * * *"), at("2027-10-30T23:30:00Z"), 3).map(iso);
    expect(hourly).toEqual([
      "2027-10-31T00:00:00.000Z", // 02:00 CEST
      "2027-10-31T01:00:00.000Z", // 02:00 CET, the second pass
      "2027-10-31T02:00:00.000Z", // 03:00 CET
    ]);
  });

  it("counts an interval from its anchor, the first run one interval after it", () => {
    const every: Cadence = { kind: "every", everyMs: 1000, anchor: 10_500 };
    expect(nextAfter(every, 0)).toBe(11_500);
    expect(nextAfter(every, 11_500)).toBe(12_500);
    expect(lastAtOrBefore(every, 12_499)).toBe(11_500);
    expect(lastAtOrBefore(every, 11_000)).toBeNull();
    expect(upcoming(every, 10_500, 3)).toEqual([11_500, 12_500, 13_500]);
  });

  it("next and last agree: the last run at or before the next run is that run", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("*/7 * * * *", "0 9 * * 1-5", "30 2 * * *", "15 */3 * * *", "*/20 * * * * *"),
        fc.constantFrom("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"),
        fc.integer({ min: at("2026-01-01T00:00:00Z"), max: at("2029-01-01T00:00:00Z") }),
        (cron, timezone, t) => {
          const c: Cadence = { kind: "cron", cron, timezone };
          const next = nextAfter(c, t) as number;
          expect(next).toBeGreaterThan(t);
          expect(lastAtOrBefore(c, next)).toBe(next);
          expect(lastAtOrBefore(c, next - 1) ?? 0).toBeLessThanOrEqual(t);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("runs due at an instant", () => {
  const hourly: Cadence = { kind: "every", everyMs: HOUR, anchor: 0 };

  it("nothing before the run's time", () => {
    expect(decide(hourly, "skip", HOUR, HOUR - 1)).toEqual({ run: null, next: HOUR });
  });

  it("a run woken on time, or a little late, runs whatever the policy", () => {
    for (const policy of ["skip", "once"] as const) {
      expect(decide(hourly, policy, HOUR, HOUR)).toEqual({ run: HOUR, next: 2 * HOUR });
      expect(decide(hourly, policy, HOUR, HOUR + LATE_MS)).toEqual({ run: HOUR, next: 2 * HOUR });
    }
  });

  it("after downtime: skip makes no run, once makes one for all, both go on after now", () => {
    const now = 6.5 * HOUR; // runs at 1 h … 6 h were missed
    expect(decide(hourly, "skip", HOUR, now)).toEqual({ run: null, next: 7 * HOUR });
    expect(decide(hourly, "once", HOUR, now)).toEqual({ run: 6 * HOUR, next: 7 * HOUR });
  });

  it("after downtime, a run that is on time still runs under skip (only the missed ones are dropped)", () => {
    const now = 6 * HOUR + 1_000;
    expect(decide(hourly, "skip", HOUR, now)).toEqual({ run: 6 * HOUR, next: 7 * HOUR });
  });

  it("never more than one run, and never one for a time after now or before the due one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 10 * HOUR }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100 * HOUR }),
        fc.constantFrom("skip" as const, "once" as const),
        (everyMs, anchor, wait, policy) => {
          const c: Cadence = { kind: "every", everyMs, anchor };
          const due = anchor + everyMs;
          const now = due + wait;
          const { run, next } = decide(c, policy, due, now);
          expect(next).toBeGreaterThan(now);
          expect(next).toBe(nextAfter(c, now));
          if (policy === "once") expect(run).toBe(lastAtOrBefore(c, now));
          if (run !== null) {
            expect(run).toBeGreaterThanOrEqual(due);
            expect(run).toBeLessThanOrEqual(now);
          }
          if (policy === "skip" && run !== null) expect(now - run).toBeLessThanOrEqual(LATE_MS);
        },
      ),
    );
  });

  it("a cron schedule after downtime across the DST change", () => {
    const c = berlin("0 * * * *");
    const now = at("2027-03-28T05:30:00Z");
    expect(decide(c, "skip", at("2027-03-27T23:00:00Z"), now)).toEqual({
      run: null,
      next: at("2027-03-28T06:00:00Z"),
    });
    expect(decide(c, "once", at("2027-03-27T23:00:00Z"), now).run).toBe(at("2027-03-28T05:00:00Z"));
  });
});

describe("checks", () => {
  it("refuses what is not a 5- or 6-field expression, bad fields, dates and expressions that never match", () => {
    expect(cronProblem("0 9 * * 1-5", "UTC")).toBeUndefined();
    expect(cronProblem("*/5 * * * * *", "UTC")).toBeUndefined();
    expect(cronProblem("@daily", "Europe/Berlin")).toBeUndefined();
    expect(cronProblem("61 * * * *", "UTC")).toMatch(/minute/);
    expect(cronProblem("* * *", "UTC")).toMatch(/5 or 6 fields/);
    expect(cronProblem("2030-01-23T00:00:00", "UTC")).toMatch(/5 or 6 fields/);
    expect(cronProblem("0 0 0 1 1 * 2025", "UTC")).toMatch(/5 or 6 fields/);
    expect(cronProblem("0 0 30 2 *", "UTC")).toBe("matches no future time");
  });

  it("knows IANA zones", () => {
    expect(zoneProblem("Europe/Berlin")).toBeUndefined();
    expect(zoneProblem("Mars/Olympus_Mons")).toMatch(/unknown time zone/);
  });

  it("derives one dedup key per run", () => {
    expect(runKey("nightly", 1_800_000_000_000)).toBe("schedule:nightly:1800000000000");
  });
});
