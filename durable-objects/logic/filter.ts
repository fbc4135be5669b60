/**
 * Event-type filters: a pattern is a dot-separated list of segments where `*` matches exactly one
 * segment and a trailing `>` matches one or more remaining segments (NATS subjects). Matching
 * splits both strings once and compares segment by segment: linear time, no regular expressions,
 * so no backtracking whatever the input.
 */

/** Longest pattern, as long as the longest event type. */
export const MAX_PATTERN_LENGTH = 128;

/** Why `pattern` is not a valid filter pattern, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH) {
    return `a pattern has 1 to ${MAX_PATTERN_LENGTH} characters`;
  }
  const segments = pattern.split(".");
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as string;
    if (s === ">" && i !== segments.length - 1) return "`>` may only be the last segment";
    if (s !== "*" && s !== ">" && (s.includes("*") || s.includes(">"))) {
      return "`*` and `>` must be whole segments";
    }
  }
  return undefined;
}

/** True when `type` matches one (valid) pattern. */
export function matchesPattern(pattern: string, type: string): boolean {
  const want = pattern.split(".");
  const have = type.split(".");
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w === ">") return have.length > i;
    if (i >= have.length) return false;
    if (w !== "*" && w !== have[i]) return false;
  }
  return want.length === have.length;
}

/**
 * True when `type` matches any pattern of the filter; an absent or empty filter matches every type.
 * @example matchesFilter(["order.*", "invoice.>"], "order.created") // true
 */
export function matchesFilter(filter: readonly string[] | undefined, type: string): boolean {
  if (!filter || filter.length === 0) return true;
  return filter.some((pattern) => matchesPattern(pattern, type));
}
