/**
 * What happens after a webhook attempt fails: another attempt after an exponential, jittered delay,
 * or the subscription's dead letters once `maxAttempts` are spent. Critical events never go to dead
 * letters: they keep being retried at the capped delay until a receiver takes them.
 */
import { type BackoffPolicy, backoffDelay, type RandomSource } from "../../shared/resilience/backoff.ts";
import { DOWN_AFTER } from "./receiver-health.ts";

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

/** How a delivery's failed attempts have counted so far. */
export interface CountedTries {
  /** Attempts that count toward `maxAttempts`. */
  attempts: number;
  /** Down signals that did not count (at most {@link DOWN_AFTER}). */
  downTries: number;
}

/**
 * Counts one more failed attempt. A failure the receiver answered counts toward `maxAttempts`. A
 * down signal (connection refused, timeout, 502/503/504: receiver-health.ts) does not, for the
 * first {@link DOWN_AFTER} of a delivery: that is as many as mark a receiver that is really down as
 * down, and from then on its attempts wait for the probes and count for nothing (the contract: attempts
 * while the receiver is down do not count), so a refused port never dead-letters anything. Past
 * them a down signal counts: a receiver that answers the other events but never this one (a timeout
 * on this payload) cannot keep it retrying for ever.
 */
export function countFailure(before: CountedTries, receiverDown: boolean): CountedTries {
  if (receiverDown && before.downTries < DOWN_AFTER) return { ...before, downTries: before.downTries + 1 };
  return { ...before, attempts: before.attempts + 1 };
}

export interface FailedAttempt {
  /** How the delivery's attempts have counted, the failed one included ({@link countFailure}). */
  counted: CountedTries;
  maxAttempts: number;
  critical: boolean;
  /** Paused subscriptions keep only critical events. */
  paused: boolean;
  policy: BackoffPolicy;
  now: number;
  random: RandomSource;
}

/** Schedules the next attempt or gives up on a failed one; delays grow with every try made. */
export function afterFailure(f: FailedAttempt): FailureDecision {
  const { attempts, downTries } = f.counted;
  if (!f.critical && (f.paused || attempts >= f.maxAttempts)) return { kind: "dead" };
  const delayMs = backoffDelay(f.policy, attempts + downTries, f.random);
  return { kind: "retry", dueAt: f.now + delayMs, delayMs };
}

/** True when a subscription with this many consecutive dead letters should be paused. */
export function shouldPause(consecutiveDeadLetters: number): boolean {
  return consecutiveDeadLetters >= PAUSE_AFTER_DEAD_LETTERS;
}
