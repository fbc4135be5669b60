/**
 * The bounds of a namespace's change log and what a resuming subscriber gets from it. The log
 * keeps the most recent changes (every version has exactly one), so it always covers the versions
 * (floor, current]; a subscriber asking for changes after a version below the floor has missed
 * some for good and must re-list.
 */

/** How much history a namespace keeps for resuming subscribers. */
export interface LogBounds {
  maxEntries: number;
  /** Sum of the entries' sizes (key plus value bytes). */
  maxBytes: number;
}

/** The default: the last 10 000 changes, at most 16 MiB of them. */
export const LOG_BOUNDS: LogBounds = { maxEntries: 10_000, maxBytes: 16 * 1024 * 1024 };

/** The log's current size. */
export interface LogTotals {
  entries: number;
  bytes: number;
}

/**
 * How many of the oldest entries to drop so the log fits `bounds`, given their sizes oldest first.
 * When every given entry has to go, the caller drops them and asks again with the next ones.
 */
export function entriesToDrop(totals: LogTotals, oldestSizes: readonly number[], bounds: LogBounds): number {
  let { entries, bytes } = totals;
  let drop = 0;
  while (drop < oldestSizes.length && (entries > bounds.maxEntries || bytes > bounds.maxBytes)) {
    entries -= 1;
    bytes -= oldestSizes[drop] as number;
    drop += 1;
  }
  return drop;
}

/** What a new subscriber receives before live changes. */
export type ResumePlan =
  /** Nothing: no `fromVersion`, or it is at or past the current version. */
  | { kind: "live" }
  /** Every retained change with a version above `after`. */
  | { kind: "replay"; after: number }
  /** Changes after `fromVersion` are gone: the client re-lists at `version`. */
  | { kind: "reset"; version: number };

/**
 * Decides how a subscription starts. `floor` is the highest version no longer in the log (0 while
 * nothing was dropped); `current` the namespace's latest version.
 */
export function resumePlan(fromVersion: number | undefined, floor: number, current: number): ResumePlan {
  if (fromVersion === undefined || fromVersion >= current) return { kind: "live" };
  if (fromVersion < floor) return { kind: "reset", version: current };
  return { kind: "replay", after: fromVersion };
}
