/**
 * Cool-downs against connection churn: a caller whose sockets on a route were closed `1008` for bad
 * frames (logic/socket-strikes.ts) twice may not open another there for a while
 * (logic/socket-cooldowns.ts), and such upgrades are refused with `429 rate_limited` before any
 * socket is made. Without this a flooder reconnects at once and floods again, so closing its
 * socket bought ~0.2 s (docs/limits.md).
 *
 * Kept in the Worker isolate's memory: best-effort (each isolate has its own, and an isolate may be
 * evicted), but free on the upgrade path; an object per caller would be exact at a round trip per
 * upgrade, and the admin principal would funnel every admin subscriber through one object
 * (docs/security.md).
 */
import { SocketCooldowns } from "../../durable-objects/logic/socket-cooldowns.ts";
import { type Clock, systemClock } from "../../shared/resilience/clock.ts";

let cooldowns = new SocketCooldowns(systemClock);

/** Replaces this isolate's cool-downs with empty ones on `clock`: tests move time instead of sleeping. */
export function useCooldownClock(clock: Pick<Clock, "now">): void {
  cooldowns = new SocketCooldowns(clock);
}

/** How long `caller` must still wait before its next socket in this isolate; 0 when it need not. */
export function cooldownRemainingMs(caller: string): number {
  return cooldowns.remainingMs(caller);
}

/** Starts `caller`'s cool-down in this isolate. */
export function coolDown(caller: string): void {
  cooldowns.penalize(caller);
}
