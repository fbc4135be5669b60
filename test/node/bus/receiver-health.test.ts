import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AttemptOutcome,
  DOWN_AFTER,
  PROBE_LOST_MS,
  ReceiverHealth,
} from "../../../durable-objects/logic/receiver-health.ts";

const down: AttemptOutcome = { ok: false, error: "connection failed", receiverDown: true };
const refused: AttemptOutcome = { ok: false, error: "HTTP 500", receiverDown: false };
const ok: AttemptOutcome = { ok: true };

/** Takes a receiver down with DOWN_AFTER down failures at `now`. */
function downAt(now: number): ReceiverHealth {
  const h = new ReceiverHealth();
  for (let i = 0; i < DOWN_AFTER; i++) h.record(down, now);
  return h;
}

describe("receiver health", () => {
  it("stays up through answers, even refusals, and fewer down failures than DOWN_AFTER", () => {
    const h = new ReceiverHealth();
    for (let i = 0; i < DOWN_AFTER - 1; i++) h.record(down, 0);
    h.record(refused, 0);
    for (let i = 0; i < DOWN_AFTER - 1; i++) h.record(down, 0);
    expect(h.down(0)).toBe(false);
    expect(h.view(0)).toEqual({ receiver: "up" });
  });

  it("goes down after DOWN_AFTER down failures in a row, then probes on 1, 2, 4, 8, 15, 15 s", () => {
    let now = 1_000_000;
    const h = downAt(now);
    expect(h.view(now)).toEqual({ receiver: "down", nextProbeAt: now + 1_000 });
    const gaps: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = h.nextProbeAt(now) as number;
      expect(h.takeProbe(at - 1)).toBe(false);
      gaps.push(at - now);
      now = at;
      expect(h.takeProbe(now)).toBe(true);
      // One probe at a time, however long it takes.
      expect(h.takeProbe(now)).toBe(false);
      expect(h.takeProbe(now + 29_000)).toBe(false);
      expect(h.nextProbeAt(now + 29_000)).toBeNull();
      h.record(down, now, true);
    }
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it("comes up on the first probe that gets an answer, and starts the schedule over next time", () => {
    const h = downAt(0);
    expect(h.takeProbe(1_000)).toBe(true);
    expect(h.record(ok, 1_000, true)).toBe(true);
    expect(h.down(1_000)).toBe(false);
    for (let i = 0; i < DOWN_AFTER; i++) h.record(down, 2_000);
    expect(h.nextProbeAt(2_000)).toBe(3_000);
  });

  it("ignores stragglers that report while it is down and no probe is out", () => {
    const h = downAt(0);
    expect(h.record(ok, 10)).toBe(false);
    expect(h.down(10)).toBe(true);
  });

  it("takes a probe that never reported as lost after PROBE_LOST_MS", () => {
    const h = downAt(0);
    expect(h.takeProbe(1_000)).toBe(true);
    expect(h.takeProbe(1_000 + PROBE_LOST_MS - 1)).toBe(false);
    expect(h.takeProbe(1_000 + PROBE_LOST_MS)).toBe(true);
  });

  it("survives a restart: the snapshot keeps the state and forgets a probe that was out", () => {
    const h = downAt(0);
    h.takeProbe(1_000);
    const again = new ReceiverHealth(JSON.parse(JSON.stringify(h.toJSON())));
    expect(again.down(1_000)).toBe(true);
    expect(again.takeProbe(1_000)).toBe(true);
  });

  it("never probes more often than once a second or less often than every 15 s", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (probeResults) => {
        let now = 0;
        const h = downAt(now);
        for (const gotThrough of probeResults) {
          if (!h.down(now)) return;
          const at = h.nextProbeAt(now) as number;
          expect(at - now).toBeGreaterThanOrEqual(1_000);
          expect(at - now).toBeLessThanOrEqual(15_000);
          now = at;
          expect(h.takeProbe(now)).toBe(true);
          h.record(gotThrough ? ok : down, now, true);
        }
      }),
    );
  });
});
