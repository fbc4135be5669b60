/**
 * Verification of signed scoped tokens: pure CPU on the request path (see docs/security.md).
 * The signature and expiry come from the token itself; revocation from the isolate's cached
 * revoked-id list ({@link RevocationCache}), refreshed off the request path.
 */
import type { Env } from "../../shared/env.ts";
import { ApiError } from "../../shared/errors.ts";
import { type Clock, systemClock } from "../../shared/resilience/clock.ts";
import type { Background, Principal } from "../http/access.ts";
import { keyRing, openToken, principalOf, TOKEN_VERSION } from "./codec.ts";
import { MAX_AGE_MS, REFRESH_AFTER_MS, RevocationCache } from "./revocations.ts";

/** Scoped tokens carry a version prefix, so they never collide with an admin token's text. */
export const SCOPED_TOKEN_PREFIX = `${TOKEN_VERSION}.`;

/** The one object that records minted tokens. */
export const registryOf = (env: Env) => env.TOKENS.getByName("registry");

let clock: Pick<Clock, "now"> = systemClock;
let cache: RevocationCache | undefined;

/** The clock of minting, expiry and revocation checks in this isolate. */
export function tokenNow(): number {
  return clock.now();
}

/**
 * Replaces the isolate's token clock and drops its revocation cache: tests drive expiry and the
 * revocation bound with a manual clock instead of sleeping.
 */
export function useTokenClock(next: Pick<Clock, "now">): void {
  clock = next;
  cache = undefined;
}

/** The isolate's revocation cache, made on first use (an isolate's bindings do not change). */
export function revocations(env: Env): RevocationCache {
  cache ??= new RevocationCache((now) => registryOf(env).revokedIds(now), clock);
  return cache;
}

/** Whether a presented token has the scoped tokens' shape (it may still be invalid). */
export function isScopedTokenText(text: string): boolean {
  return text.startsWith(SCOPED_TOKEN_PREFIX);
}

/** The principal of a valid, live, unrevoked scoped token; `null` otherwise. */
export async function verifyScopedToken(
  env: Env,
  text: string,
  ctx?: Background,
): Promise<Extract<Principal, { kind: "scoped" }> | null> {
  const ring = await keyRing(env.TOKEN_SIGNING_KEYS);
  if (!ring) return null;
  const payload = await openToken(ring, text);
  if (!payload || payload.exp <= clock.now()) return null;
  let revoked: boolean;
  try {
    revoked = await revocations(env).isRevoked(payload.id, ctx);
  } catch (err) {
    console.error("revocation list unavailable", err);
    throw new ApiError("unavailable", "the token registry is unavailable; try again");
  }
  return revoked ? null : principalOf(payload);
}

/**
 * Whether a scoped token that opened a socket has since expired or been revoked. Asks for a
 * revoked-id list at most {@link REFRESH_AFTER_MS} old, so that a check every few seconds finds a
 * revocation within the contract's 10 s. When that fresher list cannot be had, the list held still
 * counts until it is {@link MAX_AGE_MS} old, as for a request: one failed fetch must not close
 * every socket of the isolate. Throws when the registry cannot be read and the list is that old.
 */
export async function scopedTokenLapsed(
  env: Env,
  principal: Extract<Principal, { kind: "scoped" }>,
): Promise<boolean> {
  if (principal.expiresAt <= clock.now()) return true;
  try {
    return await revocations(env).isRevoked(principal.id, undefined, REFRESH_AFTER_MS);
  } catch (err) {
    console.error("revocation refresh for an open socket failed", err);
    return revocations(env).isRevoked(principal.id);
  }
}
