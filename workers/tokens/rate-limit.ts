/**
 * Per-token rate limits: one {@link TokenRateLimitObject} per rate-limited token id, an exact
 * sliding window. (The Workers Rate Limiting binding fixes its limit and period per binding in
 * wrangler.toml, so it cannot hold a limit chosen per token at minting.) Only tokens minted with
 * a `rateLimit` pay this round trip.
 */
import type { Env } from "../../shared/env.ts";
import { rateLimited } from "../../shared/errors.ts";
import type { RateLimit } from "../http/access.ts";

/** Throws `429 rate_limited` with `Retry-After` when the token is over its limit. */
export async function enforceRateLimit(env: Env, tokenId: string, limit: RateLimit): Promise<void> {
  const taken = await env.TOKEN_RATE_LIMITS.getByName(tokenId).take(limit);
  if (taken.allowed) return;
  throw rateLimited(
    `this token allows ${limit.requests} requests per ${limit.periodMs} ms`,
    taken.retryAfterMs,
  );
}
