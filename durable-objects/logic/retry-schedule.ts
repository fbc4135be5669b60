/**
 * What happens after a webhook attempt fails: another attempt after an exponential, jittered delay,
 * or the subscription's dead letters once `maxAttempts` are spent. Critical events never go to dead
 * letters: they keep being retried at the capped delay until a receiver takes them.
 */
import { type BackoffPolicy, backoffDelay, type RandomSource } from "../../shared/resilience/backoff.ts";

/**
 * Default webhook retry schedule: 5 s doubling up to 1 h, with "equal" jitter (a delay in [d/2, d]),
 * so delays never shrink from one attempt to the next and receivers are not hit in lockstep.
 */
export const DEFAULT_WEBHOOK_BACKOFF: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  jitter: "equal",
};

/**
 * A subscription whose deliveries end in dead letters this many times in a row, with no success in
 * between, is paused: its receiver is taken as gone rather than flaky.
 */
export const PAUSE_AFTER_DEAD_LETTERS = 5;

export type FailureDecision = { kind: "retry"; dueAt: number; delayMs: number } | { kind: "dead" };

export interface FailedAttempt {
  /**
   * Attempts that count toward `maxAttempts` so far, the failed one included when it counts (1
   * after the first failure the receiver answered).
   */
  attempts: number;
  /**
   * The failure says the receiver itself is unreachable (connection refused, timeout, 502/503/504):
   * it never counts toward `maxAttempts`, so an event is not dead-lettered for a receiver that is
   * down, in the attempts before enough of them mark it down (receiver-health.ts) as after.
   */
  receiverDown?: boolean;
  maxAttempts: number;
  critical: boolean;
  /** Paused subscriptions keep only critical events. */
  paused: boolean;
  policy: BackoffPolicy;
  now: number;
  random: RandomSource;
}

/** Schedules the next attempt or gives up on a failed one. */
export function afterFailure(f: FailedAttempt): FailureDecision {
  const spent = !f.receiverDown && f.attempts >= f.maxAttempts;
  if (!f.critical && (f.paused || spent)) return { kind: "dead" };
  const delayMs = backoffDelay(f.policy, Math.max(1, f.attempts), f.random);
  return { kind: "retry", dueAt: f.now + delayMs, delayMs };
}

/** True when a subscription with this many consecutive dead letters should be paused. */
export function shouldPause(consecutiveDeadLetters: number): boolean {
  return consecutiveDeadLetters >= PAUSE_AFTER_DEAD_LETTERS;
}
