/**
 * The Redis the bridge writes to: `UPSTASH_REDIS_REST_URL` (a var) and `UPSTASH_REDIS_REST_TOKEN`
 * (a secret), reached with `@upstash/redis` (Upstash itself, or the local gateway in
 * scripts/upstash-gateway). Unset, Redis sinks and mirrors answer `400 not_configured`.
 */
import { Redis } from "@upstash/redis/cloudflare";
import type { ErrorInfo } from "../errors.ts";

/** The two settings, as the Worker's environment carries them. */
export interface RedisVars {
  /** The REST URL of an Upstash database or a compatible gateway, e.g. `https://eu1-x.upstash.io`. */
  UPSTASH_REDIS_REST_URL?: string;
  /** Its REST token (a secret). */
  UPSTASH_REDIS_REST_TOKEN?: string;
}

/** Why Redis cannot be used (`not_configured`, `details.field` "redis"), or undefined when it can. */
export function redisConfigProblem(env: RedisVars): ErrorInfo | undefined {
  const url = env.UPSTASH_REDIS_REST_URL ?? "";
  const token = env.UPSTASH_REDIS_REST_TOKEN ?? "";
  const missing = [url ? null : "UPSTASH_REDIS_REST_URL", token ? null : "UPSTASH_REDIS_REST_TOKEN"].filter(
    (n): n is string => n !== null,
  );
  if (missing.length > 0) {
    return {
      code: "not_configured",
      message: `Redis is not configured: set ${missing.join(" and ")}`,
      details: { field: "redis", missing },
    };
  }
  if (!isRestUrl(url)) {
    return {
      code: "not_configured",
      message: "UPSTASH_REDIS_REST_URL is not an http(s) URL",
      details: { field: "redis", setting: "UPSTASH_REDIS_REST_URL" },
    };
  }
  return undefined;
}

/** Whether `url` is an absolute http(s) URL without credentials, query or fragment. */
export function isRestUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    (parsed.protocol === "https:" || parsed.protocol === "http:") &&
    !parsed.username &&
    !parsed.password &&
    !parsed.search &&
    !parsed.hash
  );
}

/**
 * A client for the configured Redis (check {@link redisConfigProblem} first). Retries inside the
 * client stay short (one quick retry of a network error): the callers have their own schedules
 * with backoff, and a call must end within `timeoutMs`.
 */
export function redisClient(env: RedisVars, timeoutMs: number): Redis {
  return Redis.fromEnv(
    {
      UPSTASH_REDIS_REST_URL: env.UPSTASH_REDIS_REST_URL ?? "",
      UPSTASH_REDIS_REST_TOKEN: env.UPSTASH_REDIS_REST_TOKEN ?? "",
    },
    {
      retry: { retries: 1, backoff: () => 50 },
      enableTelemetry: false,
      // Answers are parsed where they are used (stream fields and mirror values are JSON text).
      automaticDeserialization: false,
      signal: () => AbortSignal.timeout(timeoutMs),
    },
  );
}

/** A short, single-line text of a failed Redis call, for `lastError` and dead letters. */
export function redisErrorText(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError"))
    return "Redis did not answer in time";
  const text = err instanceof Error ? err.message : String(err);
  // The client appends the whole command ("..., command was: [...]"), event data included.
  return `Redis: ${text.split(", command was:")[0]?.slice(0, 500)}`;
}
