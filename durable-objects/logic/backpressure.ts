/**
 * Admission of published events: once a topic's undelivered backlog reaches its limit, only
 * critical events get in; the others are refused with a hint of when to try again.
 */

/** Longest `Retry-After` the topic suggests, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 60;

export type Admission = { accept: true } | { accept: false; retryAfterSeconds: number };

export interface AdmissionInput {
  /** Deliveries accepted but not yet delivered or given up. */
  undelivered: number;
  limit: number;
  /** True when every event of the publish is critical. */
  allCritical: boolean;
  /** Time until the earliest pending delivery is due (0 if due now). */
  nextDueInMs: number;
}

/** Accepts, or refuses with a `Retry-After` between 1 and {@link MAX_RETRY_AFTER_SECONDS} seconds. */
export function admit(input: AdmissionInput): Admission {
  if (input.allCritical || input.undelivered < input.limit) return { accept: true };
  const seconds = Math.ceil(Math.max(0, input.nextDueInMs) / 1000);
  return { accept: false, retryAfterSeconds: Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds)) };
}
