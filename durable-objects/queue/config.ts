/** The queue's settings from the Worker's variables, checked once when an object starts. */
import type { BackoffPolicy } from "../../shared/resilience/backoff.ts";
import { DEFAULT_RETRY_POLICY } from "../logic/queue-rules.ts";

/** The variables the queue reads (all optional strings of milliseconds). */
export interface QueueVars {
  /** How long completed tasks stay readable before the alarm removes them (default 1 h). */
  QUEUE_RETENTION_MS?: string;
  /** The first retry delay of the exponential backoff (default 1000). */
  QUEUE_RETRY_INITIAL_MS?: string;
  /** The longest retry delay (default 600000). */
  QUEUE_RETRY_MAX_MS?: string;
}

export interface QueueConfig {
  retentionMs: number;
  retryPolicy: BackoffPolicy;
}

export const DEFAULT_RETENTION_MS = 3_600_000;

function millis(vars: QueueVars, name: keyof QueueVars, fallback: number): number {
  const raw = vars[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number of milliseconds, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads the settings; throws on a malformed value so that bad configuration shows at once. */
export function queueConfig(vars: QueueVars): QueueConfig {
  const initialDelayMs = millis(vars, "QUEUE_RETRY_INITIAL_MS", DEFAULT_RETRY_POLICY.initialDelayMs);
  const maxDelayMs = millis(vars, "QUEUE_RETRY_MAX_MS", DEFAULT_RETRY_POLICY.maxDelayMs);
  if (maxDelayMs < initialDelayMs) {
    throw new Error("QUEUE_RETRY_MAX_MS must not be below QUEUE_RETRY_INITIAL_MS");
  }
  return {
    retentionMs: millis(vars, "QUEUE_RETENTION_MS", DEFAULT_RETENTION_MS),
    retryPolicy: { ...DEFAULT_RETRY_POLICY, initialDelayMs, maxDelayMs },
  };
}
