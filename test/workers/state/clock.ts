/** A manual clock on a namespace's object: a test moves its time instead of waiting for it. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { StateObject } from "../../../durable-objects/state/object.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";

/** Gives the object of `ns` a clock that starts now and moves only when the test moves it. */
export async function manualClockOn(ns: string): Promise<ManualClock> {
  const clock = new ManualClock(Date.now());
  await runInDurableObject(env.STATE.getByName(ns), (o: StateObject) => {
    o.clock = clock;
  });
  return clock;
}
