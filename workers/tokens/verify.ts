/** Verification of signed scoped tokens: pure CPU on the request path (see docs/security.md). */
import type { Env } from "../../shared/env.ts";
import type { Background, Principal } from "../http/access.ts";

/** Scoped tokens carry a version prefix, so they never collide with an admin token's text. */
export const SCOPED_TOKEN_PREFIX = "sy1.";

/** Whether a presented token has the scoped tokens' shape (it may still be invalid). */
export function isScopedTokenText(text: string): boolean {
  return text.startsWith(SCOPED_TOKEN_PREFIX);
}

/** The principal of a valid, live, unrevoked scoped token; `null` otherwise. */
export async function verifyScopedToken(
  _env: Env,
  _text: string,
  _ctx?: Background,
): Promise<Extract<Principal, { kind: "scoped" }> | null> {
  return null;
}
