import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ObjectAlarm } from "../../durable-objects/lib/alarm.ts";
import { ManualClock } from "../../shared/resilience/clock.ts";
import { unique } from "./helpers.ts";

describe("ObjectAlarm on a real object's storage", () => {
  it("aims, brings forward only to earlier times, and stands for its own time when it rings", async () => {
    // An idle lock: it sets no alarm of its own.
    await runInDurableObject(env.LOCKS.getByName(unique("alarm")), async (_lock, state) => {
      const clock = new ManualClock(Date.now());
      const alarm = new ObjectAlarm(state.storage, () => clock.now());
      const t = clock.now() + 60_000;
      expect(alarm.aim(t)).toBe(true);
      expect(alarm.aim(t)).toBe(false);
      expect(await state.storage.getAlarm()).toBe(t);

      expect(alarm.bringForward(t + 1_000)).toBe(false);
      expect(alarm.bringForward(null)).toBe(false);
      expect(alarm.bringForward(t - 1_000)).toBe(true);
      expect(await state.storage.getAlarm()).toBe(t - 1_000);

      // Rung ahead of time (as runDurableObjectAlarm does), it stands for the time it was set for.
      expect(alarm.ring()).toBe(t - 1_000);
      expect(alarm.at).toBeNull();
      expect(alarm.bringForward(t)).toBe(true);
      expect(alarm.aim(null)).toBe(true);
      expect(await state.storage.getAlarm()).toBeNull();

      // Rung late, it stands for the clock's time: everything due by then is due.
      alarm.aim(t);
      clock.advance(90_000);
      expect(alarm.ring()).toBe(t + 30_000);
    });
  });
});
