import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closing, MAX_BAD_MESSAGES, strike } from "../../../durable-objects/logic/socket-strikes.ts";

describe("strike", () => {
  it("logs the first bad message only and closes on the eleventh", () => {
    const seen = Array.from({ length: 12 }, (_, before) => strike(before));
    expect(seen.filter((s) => s.log).map((s) => s.count)).toEqual([1]);
    expect(seen.find((s) => s.close)?.count).toBe(MAX_BAD_MESSAGES + 1);
  });

  it("counts one per message and closes exactly past the limit", () => {
    fc.assert(
      fc.property(fc.nat(10_000), (before) => {
        const s = strike(before);
        expect(s.count).toBe(before + 1);
        expect(s.close).toBe(before + 1 > MAX_BAD_MESSAGES);
      }),
    );
  });

  it("treats a socket as closing from the strike that closed it on", () => {
    fc.assert(
      fc.property(fc.nat(10_000), (before) => {
        expect(closing(strike(before).count)).toBe(strike(before).close || closing(before));
      }),
    );
  });
});
