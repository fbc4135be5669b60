import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admit, MAX_RETRY_AFTER_SECONDS } from "../../../durable-objects/logic/backpressure.ts";

describe("backpressure", () => {
  const full = {
    undelivered: 10,
    limit: 10,
    allCritical: false,
    nextDueInMs: 0,
    undeliveredBytes: 0,
    incomingBytes: 10,
    bytesLimit: 1_000,
  };

  it("accepts below the limit", () => {
    expect(admit({ ...full, undelivered: 9 })).toEqual({ accept: true });
  });

  it("refuses non-critical events at the limit with a Retry-After of at least 1 s", () => {
    expect(admit(full)).toEqual({ accept: false, reason: "undelivered", retryAfterSeconds: 1 });
    expect(admit({ ...full, nextDueInMs: 4_200 })).toEqual({
      accept: false,
      reason: "undelivered",
      retryAfterSeconds: 5,
    });
    expect(admit({ ...full, nextDueInMs: 3_600_000 })).toEqual({
      accept: false,
      reason: "undelivered",
      retryAfterSeconds: MAX_RETRY_AFTER_SECONDS,
    });
  });

  it("accepts critical events past the count limit", () => {
    expect(admit({ ...full, undelivered: 1_000_000, allCritical: true })).toEqual({ accept: true });
  });

  it("refuses every publish, critical included, that would pass the storage ceiling", () => {
    expect(admit({ ...full, undelivered: 0, undeliveredBytes: 990, incomingBytes: 10 })).toEqual({
      accept: true,
    });
    for (const allCritical of [true, false]) {
      expect(admit({ ...full, allCritical, undelivered: 0, undeliveredBytes: 991 })).toMatchObject({
        accept: false,
        reason: "storage",
      });
    }
  });

  it("never lets accepted bytes pass the ceiling", () => {
    fc.assert(
      fc.property(
        fc.nat(2_000),
        fc.nat(2_000),
        fc.integer({ min: 1, max: 2_000 }),
        fc.boolean(),
        (held, incoming, limit, allCritical) => {
          const a = admit({
            ...full,
            allCritical,
            undeliveredBytes: held,
            incomingBytes: incoming,
            bytesLimit: limit,
          });
          if (a.accept && incoming > 0) expect(held + incoming).toBeLessThanOrEqual(limit);
        },
      ),
    );
  });
});
