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
import type { Context } from "hono";
import { SocketCooldowns } from "../../durable-objects/logic/socket-cooldowns.ts";
import { rateLimited } from "../../shared/errors.ts";
import { type Clock, systemClock } from "../../shared/resilience/clock.ts";
import { withinRateLimit } from "./operation.ts";
import type { AppEnv } from "./router.ts";

let cooldowns = new SocketCooldowns(systemClock);

/** Replaces this isolate's cool-downs with empty ones on `clock`: tests move time instead of sleeping. */
export function useCooldownClock(clock: Pick<Clock, "now">): void {
  cooldowns = new SocketCooldowns(clock);
}

/**
 * Admits a new socket on `route` to `target`: the caller's key for its cool-down, or `429
 * rate_limited` with `Retry-After` while that caller is cooling down; then takes one request of a
 * scoped token's rate limit (a refused or cooling upgrade spends none). The caller is the token's
 * principal (all admin tokens are one principal), the route and its target, so that one bad
 * socket does not lock an admin token's other subscribers out of every other topic.
 */
export async function admitSocket(c: Context<AppEnv>, route: string, target: string): Promise<string> {
  const principal = c.get("principal");
  const who = principal?.kind === "scoped" ? `token:${principal.id}` : "admin";
  const caller = `${who} ${route} ${target}`;
  const retryAfterMs = cooldowns.remainingMs(caller);
  if (retryAfterMs === 0) {
    await withinRateLimit(c);
    return caller;
  }
  throw rateLimited(
    "sockets of this token on this route were closed for bad messages twice; wait before opening another",
    retryAfterMs,
  );
}

/** Starts `caller`'s cool-down in this isolate. */
export function coolDown(caller: string): void {
  cooldowns.penalize(caller);
}
