import { describe, expect, it } from "vitest";
import { admit, MAX_RETRY_AFTER_SECONDS } from "../../../durable-objects/logic/backpressure.ts";

describe("backpressure", () => {
  const full = { undelivered: 10, limit: 10, allCritical: false, nextDueInMs: 0 };

  it("accepts below the limit", () => {
    expect(admit({ ...full, undelivered: 9 })).toEqual({ accept: true });
  });

  it("refuses non-critical events at the limit with a Retry-After of at least 1 s", () => {
    expect(admit(full)).toEqual({ accept: false, retryAfterSeconds: 1 });
    expect(admit({ ...full, nextDueInMs: 4_200 })).toEqual({ accept: false, retryAfterSeconds: 5 });
    expect(admit({ ...full, nextDueInMs: 3_600_000 })).toEqual({
      accept: false,
      retryAfterSeconds: MAX_RETRY_AFTER_SECONDS,
    });
  });

  it("always accepts critical events", () => {
    expect(admit({ ...full, undelivered: 1_000_000, allCritical: true })).toEqual({ accept: true });
  });
});
