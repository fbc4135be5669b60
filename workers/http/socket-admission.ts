/**
 * What lets a WebSocket in and what ends it: an upgrade is refused while its caller cools down
 * (socket-cooldown.ts) and takes one request of a scoped token's rate limit; a socket opened with a
 * scoped token lasts only while the token does, so the relay checks it every
 * {@link TOKEN_RECHECK_MS} (socket-relay.ts).
 */
import type { Context } from "hono";
import { rateLimited } from "../../shared/errors.ts";
import { scopedTokenLapsed } from "../tokens/verify.ts";
import { withinRateLimit } from "./operation.ts";
import type { AppEnv } from "./router.ts";
import { cooldownRemainingMs } from "./socket-cooldown.ts";

/**
 * How often an open socket's scoped token is checked again. With the revoked-id list asked at most
 * 5 s old, a revocation closes the socket within about 7 s: inside the contract's 10 s.
 */
export const TOKEN_RECHECK_MS = 2_000;

/** What every relayed socket route's description says of this. */
export const TOKEN_LAPSE_NOTE =
  "A socket opened with a scoped token is closed with `1008` once the token expires or is revoked (within 10 s).";

/** A socket let in. */
export interface Admission {
  /** The caller's key for its cool-down: principal, route and target. */
  caller: string;
  /** Whether the token that opened the socket has expired or been revoked since; absent for admin. */
  lapsed?: () => Promise<boolean>;
}

/**
 * Admits a new socket on `route` to `target`, or throws `429 rate_limited` with `Retry-After` while
 * its caller is cooling down; then takes one request of a scoped token's rate limit (a refused or
 * cooling upgrade spends none). The caller is the token's principal (all admin tokens are one
 * principal), the route and its target, so that one bad socket does not lock an admin token's
 * other subscribers out of every other topic.
 */
export async function admitSocket(c: Context<AppEnv>, route: string, target: string): Promise<Admission> {
  const principal = c.get("principal");
  const who = principal?.kind === "scoped" ? `token:${principal.id}` : "admin";
  const caller = `${who} ${route} ${target}`;
  const retryAfterMs = cooldownRemainingMs(caller);
  if (retryAfterMs > 0) {
    throw rateLimited(
      "sockets of this token on this route were closed for bad messages twice; wait before opening another",
      retryAfterMs,
    );
  }
  await withinRateLimit(c);
  if (principal?.kind !== "scoped") return { caller };
  const env = c.env;
  return { caller, lapsed: () => scopedTokenLapsed(env, principal) };
}
