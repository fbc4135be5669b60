/** Per-token rate limits (placeholder until the limiter object lands). */
import type { Env } from "../../shared/env.ts";
import type { RateLimit } from "../http/access.ts";

/** Throws `429 rate_limited` with `Retry-After` when the token is over its limit. */
export async function enforceRateLimit(_env: Env, _tokenId: string, _limit: RateLimit): Promise<void> {}
