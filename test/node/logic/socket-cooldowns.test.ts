import { describe, expect, it } from "vitest";
import {
  FIRST_COOLDOWN_MS,
  FORGET_AFTER_MS,
  MAX_COOLDOWN_MS,
  MAX_REMEMBERED,
  SocketCooldowns,
} from "../../../durable-objects/logic/socket-cooldowns.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";

const onClock = () => {
  const clock = new ManualClock(1_000_000);
  return { clock, cooldowns: new SocketCooldowns(clock) };
};

/** Penalizes `caller` and lets its cool-down run out; returns how long it was. */
function serve(clock: ManualClock, cooldowns: SocketCooldowns, caller: string): number {
  cooldowns.penalize(caller);
  const ms = cooldowns.remainingMs(caller);
  clock.advance(ms);
  return ms;
}

describe("socket cool-downs", () => {
  it("lets a caller never penalized open sockets", () => {
    expect(onClock().cooldowns.remainingMs("admin topic t")).toBe(0);
  });

  it("lets a caller closed once in at once, and holds one closed twice for the first cool-down, counting down", () => {
    const { clock, cooldowns } = onClock();
    cooldowns.penalize("a");
    expect(cooldowns.remainingMs("a")).toBe(0);
    cooldowns.penalize("a");
    expect(cooldowns.remainingMs("a")).toBe(FIRST_COOLDOWN_MS);
    clock.advance(FIRST_COOLDOWN_MS - 1);
    expect(cooldowns.remainingMs("a")).toBe(1);
    clock.advance(1);
    expect(cooldowns.remainingMs("a")).toBe(0);
  });

  it("doubles on each repeat up to the longest", () => {
    const { clock, cooldowns } = onClock();
    const lengths = Array.from({ length: 9 }, () => serve(clock, cooldowns, "a"));
    expect(lengths).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(Math.max(...lengths)).toBe(MAX_COOLDOWN_MS);
  });

  it("starts over after a quiet period past the cool-down's end, not before", () => {
    const { clock, cooldowns } = onClock();
    serve(clock, cooldowns, "a");
    serve(clock, cooldowns, "a");
    clock.advance(FORGET_AFTER_MS - 1);
    expect(serve(clock, cooldowns, "a")).toBe(2 * FIRST_COOLDOWN_MS);
    clock.advance(FORGET_AFTER_MS);
    // Forgotten: the next close is a first one again.
    expect(serve(clock, cooldowns, "a")).toBe(0);
    expect(serve(clock, cooldowns, "a")).toBe(FIRST_COOLDOWN_MS);
  });

  it("keeps callers apart", () => {
    const { cooldowns } = onClock();
    cooldowns.penalize("token:t1 topic orders");
    cooldowns.penalize("token:t1 topic orders");
    expect(cooldowns.remainingMs("token:t1 topic orders")).toBe(FIRST_COOLDOWN_MS);
    expect(cooldowns.remainingMs("token:t1 topic payments")).toBe(0);
    expect(cooldowns.remainingMs("token:t2 topic orders")).toBe(0);
  });

  it("remembers a bounded number of callers, forgetting the least recently penalized", () => {
    const { cooldowns } = onClock();
    for (let i = 0; i <= MAX_REMEMBERED; i++) {
      cooldowns.penalize(`c${i}`);
      cooldowns.penalize(`c${i}`);
    }
    expect(cooldowns.remainingMs("c0")).toBe(0);
    expect(cooldowns.remainingMs("c1")).toBe(FIRST_COOLDOWN_MS);
    expect(cooldowns.remainingMs(`c${MAX_REMEMBERED}`)).toBe(FIRST_COOLDOWN_MS);
  });
});
