/**
 * Who a bearer token stands for: an admin token from `API_TOKENS` (constant-time comparison),
 * the documented dev token where local development turns it on (`ALLOW_DEV_TOKEN=true`), or a
 * signed scoped token (`workers/tokens/`). Anything else is `401`. Fails closed: with no
 * `API_TOKENS` and no dev token allowed, no `/v1` request gets in (scoped tokens neither), and the
 * isolate logs why once.
 */
import type { Env } from "../../shared/env.ts";
import { ApiError } from "../../shared/errors.ts";
import { isScopedTokenText, verifyScopedToken } from "../tokens/verify.ts";
import { ADMIN, type Background, type Principal } from "./access.ts";

/** The token local development accepts as admin (`npm run dev`, the test configuration). */
export const DEV_TOKEN = "switchyard-dev-token";

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

let loggedNoTokens = false;

/** Admin tokens in force; empty means no admin token is accepted. */
export function adminTokens(env: Env): string[] {
  const listed = (env.API_TOKENS ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  if (env.ALLOW_DEV_TOKEN === "true") listed.push(DEV_TOKEN);
  if (listed.length === 0 && !loggedNoTokens) {
    loggedNoTokens = true;
    console.warn("API_TOKENS is unset or empty and ALLOW_DEV_TOKEN is off: every /v1 request is refused");
  }
  return listed;
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

/** The `401` every authentication failure answers, the same whatever the reason. */
export function unauthorized(): ApiError {
  return new ApiError(
    "unauthorized",
    "missing or unknown bearer token: send `Authorization: Bearer <token>`",
    undefined,
    { "WWW-Authenticate": 'Bearer realm="switchyard"' },
  );
}

/**
 * The principal a presented token stands for; throws `401` for none or an unknown one. `admins`
 * is the list in force, for a caller that has read it already.
 */
export async function authenticate(
  env: Env,
  candidate: string | undefined,
  ctx?: Background,
  admins: readonly string[] = adminTokens(env),
): Promise<Principal> {
  if (!candidate) throw unauthorized();
  if (isScopedTokenText(candidate)) {
    const scoped = await verifyScopedToken(env, candidate, ctx);
    if (scoped) return scoped;
    throw unauthorized();
  }
  if (await tokenMatches(candidate, admins)) return ADMIN;
  throw unauthorized();
}

/**
 * The principal of a `/v1` request's token. Fails closed (the contract's 1.2): with no admin
 * token configured every request is refused, scoped tokens minted earlier included, so a
 * deployment that lost its secrets is shut rather than half open. A service-binding caller is
 * trusted by its binding and keeps its scoped tokens (workers/tokens/rpc-access.ts).
 */
export async function authenticateRequest(
  env: Env,
  candidate: string | undefined,
  ctx?: Background,
): Promise<Principal> {
  const admins = adminTokens(env);
  if (admins.length === 0) throw unauthorized();
  return authenticate(env, candidate, ctx, admins);
}

/** The bearer token of a request's `Authorization` header, if it has one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}
