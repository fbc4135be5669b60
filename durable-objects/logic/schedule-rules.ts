/**
 * The rules of a queue's schedules, free of storage and timers: when a schedule runs next, what a
 * missed-run policy makes of the runs due at a given instant, and each run's dedup key. Every
 * function takes the time it decides for (`now`), so tests pick any instant.
 *
 * Cron expressions are read by croner, daylight-saving transitions included as croner documents
 * them (https://github.com/hexagon/croner#pattern): a fixed-time job (one value in each of the
 * seconds, minutes and hours) whose time falls in a spring-forward gap runs at the first valid time
 * after the gap, and once when a fall-back repeats it; an interval job (a wildcard, step, range or
 * list in those fields) skips times in a gap and runs on both occurrences of a repeated one.
 */
import { Cron } from "croner";

/** What to do with runs the queue could not make in time: drop them, or make one run for them all. */
export const MISSED_POLICIES = ["skip", "once"] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];

/**
 * A run is missed when the queue wakes more than this long after its time, or when a later run is
 * already due. A run woken a little late (alarms are at least once, and may be retried) still runs.
 */
export const LATE_MS = 60_000;

/** How a schedule repeats: a cron expression read in a time zone, or a fixed interval from `anchor`. */
export type Cadence =
  | { kind: "cron"; cron: string; timezone: string }
  | { kind: "every"; everyMs: number; anchor: number };

/** What the queue does at `now` for one schedule. */
export interface RunDecision {
  /** The instant of the run to enqueue now (its dedup key), or null for none. */
  run: number | null;
  /** Where the schedule goes on: its next run after `now`, or null when it has none left. */
  next: number | null;
}

/** 5 fields (minutes first) or 6 (seconds first), or a nickname; not croner's one-off ISO dates. */
const CRON_SHAPE = /^(@[a-z]+|\S+(\s+\S+){4,5})$/i;

/** Parsed expressions, by zone and expression (bounded: cleared when full). */
const compiled = new Map<string, Cron>();
const MAX_COMPILED = 1_000;

function cronOf(cron: string, timezone: string): Cron {
  const key = `${timezone}\n${cron}`;
  let parsed = compiled.get(key);
  if (parsed === undefined) {
    // `paused` and no callback: croner only computes times, it starts no timer.
    parsed = new Cron(cron.trim(), { timezone, paused: true, mode: "5-or-6-parts" });
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, parsed);
  }
  return parsed;
}

/** Why `zone` is not an IANA time zone this runtime knows, or undefined when it is one. */
export function zoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(zone)} (an IANA name such as "Europe/Berlin")`;
  }
}

/** Why `cron` is not an expression croner reads with a future run, or undefined when it is one. */
export function cronProblem(cron: string, timezone: string): string | undefined {
  if (!CRON_SHAPE.test(cron.trim())) {
    return "must be a cron expression of 5 or 6 fields, or a nickname such as @daily";
  }
  try {
    return cronOf(cron, timezone).nextRun() === null ? "matches no future time" : undefined;
  } catch (err) {
    return err instanceof Error ? err.message : "not a cron expression";
  }
}

/** The first run strictly after `t`, or null when there is none. */
export function nextAfter(c: Cadence, t: number): number | null {
  if (c.kind === "every")
    return c.anchor + Math.max(1, Math.floor((t - c.anchor) / c.everyMs) + 1) * c.everyMs;
  return cronOf(c.cron, c.timezone).nextRun(new Date(t))?.getTime() ?? null;
}

/** The last run at or before `t`, or null when there is none. */
export function lastAtOrBefore(c: Cadence, t: number): number | null {
  if (c.kind === "every") {
    const k = Math.floor((t - c.anchor) / c.everyMs);
    return k >= 1 ? c.anchor + k * c.everyMs : null;
  }
  return (
    cronOf(c.cron, c.timezone)
      .previousRuns(1, new Date(t + 1))[0]
      ?.getTime() ?? null
  );
}

/** The next `count` runs after `t`. */
export function upcoming(c: Cadence, t: number, count: number): number[] {
  const runs: number[] = [];
  for (let at = nextAfter(c, t); at !== null && runs.length < count; at = nextAfter(c, at)) runs.push(at);
  return runs;
}

/**
 * What to do at `now` for a schedule whose next run is `due`: nothing yet, the run that is due,
 * or — when runs were missed (a later one is due too, or the latest is over {@link LATE_MS} late) —
 * what `policy` says: `skip` makes only a run that is on time, `once` makes one run (keyed by the
 * latest due instant) for all of them. Never more than one run: never a burst.
 */
export function decide(c: Cadence, policy: MissedPolicy, due: number, now: number): RunDecision {
  if (due > now) return { run: null, next: due };
  const second = nextAfter(c, due);
  const latest = second === null || second > now ? due : (lastAtOrBefore(c, now) ?? due);
  const onTime = now - latest <= LATE_MS;
  return { run: onTime || policy === "once" ? latest : null, next: nextAfter(c, now) };
}

/**
 * The dedup key of a schedule's run at `instant`: the same run always gets the same key.
 * @example runKey("nightly", 1_800_000_000_000) // "schedule:nightly:1800000000000"
 */
export const runKey = (name: string, instant: number): string => `schedule:${name}:${instant}`;
