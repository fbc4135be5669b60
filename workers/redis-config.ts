/**
 * The Redis bridge's URL, checked once when the Worker loads: a set `UPSTASH_REDIS_REST_URL`
 * that is not a plain http(s) URL stops the Worker with a message naming it, as a malformed
 * `DB_NODES` does. Unset stays allowed: the Redis routes then answer `400 not_configured`.
 */
import { env } from "cloudflare:workers";
import { isRestUrl, type RedisVars } from "../shared/redis/config.ts";

/** Throws when `UPSTASH_REDIS_REST_URL` is set but unusable. */
export function checkRedisUrl(vars: RedisVars): void {
  const url = vars.UPSTASH_REDIS_REST_URL;
  if (url && !isRestUrl(url)) {
    throw new Error(
      "UPSTASH_REDIS_REST_URL must be an http(s) URL without credentials, query or fragment (see docs/redis.md)",
    );
  }
}

checkRedisUrl(env as RedisVars);
