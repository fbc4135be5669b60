/** Bearer-token auth: constant-time comparison against `API_TOKENS`, default deny. */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../../shared/env.ts";
import { ApiError } from "../../shared/errors.ts";

/** Accepted only while `API_TOKENS` is unset and only on a loopback host: local development. */
export const DEV_TOKEN = "switchyard-dev-token";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/** Configured tokens' digests, made once per isolate: the list only changes with a deploy. */
const configuredDigests = new Map<string, Promise<ArrayBuffer>>();

function configuredDigest(token: string): Promise<ArrayBuffer> {
  let known = configuredDigests.get(token);
  if (known === undefined) {
    known = digest(token);
    configuredDigests.set(token, known);
  }
  return known;
}

/** Tokens in force for a request; empty means nobody gets in. */
export function configuredTokens(env: Env, url: URL): string[] {
  const listed = (env.API_TOKENS ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (listed.length > 0) return listed;
  return LOOPBACK_HOSTS.has(url.hostname) ? [DEV_TOKEN] : [];
}

/**
 * Compares digests of equal length with `timingSafeEqual` against every configured token, so
 * that neither the length nor the position of a match shows in the timing.
 */
export async function tokenMatches(candidate: string, tokens: readonly string[]): Promise<boolean> {
  const given = await digest(candidate);
  let matched = false;
  for (const token of tokens) {
    if (crypto.subtle.timingSafeEqual(given, await configuredDigest(token))) matched = true;
  }
  return matched;
}

/**
 * Requires `Authorization: Bearer <token>`; WebSocket upgrades may pass `?token=` instead, since
 * browsers cannot set headers on them.
 */
export function bearerAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async function bearerAuthMiddleware(c, next) {
    const header = c.req.header("authorization");
    const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1];
    const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
    const candidate = bearer ?? (isUpgrade ? c.req.query("token") : undefined);
    const url = new URL(c.req.url);
    if (!candidate || !(await tokenMatches(candidate, configuredTokens(c.env, url)))) {
      throw new ApiError("unauthorized", "missing or unknown bearer token", undefined, {
        "WWW-Authenticate": 'Bearer realm="switchyard"',
      });
    }
    await next();
  };
}
