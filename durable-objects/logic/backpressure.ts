/**
 * Admission of published events: once a topic's undelivered backlog reaches its limit, only
 * critical events get in; the others are refused with a hint of when to try again. Above both
 * sits a hard ceiling on the bytes of undelivered event text, which binds critical events too:
 * the exemption must not let storage grow without bound (API 1.2, issue 22).
 */

/** Longest `Retry-After` the topic suggests, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 60;

/** Why a publish was refused: the count limit, or the storage ceiling. */
export type RefusalReason = "undelivered" | "storage";

export type Admission =
  | { accept: true }
  | { accept: false; reason: RefusalReason; retryAfterSeconds: number };

export interface AdmissionInput {
  /** Deliveries accepted but not yet delivered or given up. */
  undelivered: number;
  limit: number;
  /** True when every event of the publish is critical. */
  allCritical: boolean;
  /** Time until the earliest pending delivery is due (0 if due now). */
  nextDueInMs: number;
  /** Bytes of event text held by pending deliveries. */
  undeliveredBytes: number;
  /** Bytes of event text this publish would add to them. */
  incomingBytes: number;
  /** The ceiling on `undeliveredBytes`. */
  bytesLimit: number;
}

/** Accepts, or refuses with a `Retry-After` between 1 and {@link MAX_RETRY_AFTER_SECONDS} seconds. */
export function admit(input: AdmissionInput): Admission {
  const seconds = Math.ceil(Math.max(0, input.nextDueInMs) / 1000);
  const retryAfterSeconds = Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
  if (input.incomingBytes > 0 && input.undeliveredBytes + input.incomingBytes > input.bytesLimit) {
    return { accept: false, reason: "storage", retryAfterSeconds };
  }
  if (input.allCritical || input.undelivered < input.limit) return { accept: true };
  return { accept: false, reason: "undelivered", retryAfterSeconds };
}
