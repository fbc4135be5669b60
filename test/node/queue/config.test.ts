import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY } from "../../../durable-objects/logic/queue-rules.ts";
import { DEFAULT_RETENTION_MS, queueConfig } from "../../../durable-objects/queue/config.ts";

describe("queue configuration", () => {
  it("defaults to one hour of retention and the default retry policy", () => {
    expect(queueConfig({})).toEqual({ retentionMs: DEFAULT_RETENTION_MS, retryPolicy: DEFAULT_RETRY_POLICY });
    expect(DEFAULT_RETENTION_MS).toBe(3_600_000);
  });

  it("reads the variables", () => {
    const c = queueConfig({
      QUEUE_RETENTION_MS: "60000",
      QUEUE_RETRY_INITIAL_MS: "250",
      QUEUE_RETRY_MAX_MS: "5000",
    });
    expect(c.retentionMs).toBe(60_000);
    expect(c.retryPolicy).toMatchObject({ kind: "exponential", initialDelayMs: 250, maxDelayMs: 5_000 });
  });

  it.each([
    [{ QUEUE_RETENTION_MS: "1h" }, /QUEUE_RETENTION_MS/],
    [{ QUEUE_RETENTION_MS: "-1" }, /QUEUE_RETENTION_MS/],
    [{ QUEUE_RETRY_INITIAL_MS: "1.5" }, /QUEUE_RETRY_INITIAL_MS/],
    [{ QUEUE_RETRY_INITIAL_MS: "5000", QUEUE_RETRY_MAX_MS: "100" }, /must not be below/],
  ])("refuses %o at start-up", (vars, message) => {
    expect(() => queueConfig(vars)).toThrow(message);
  });
});
