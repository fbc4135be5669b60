/** Minting scoped tokens through the Worker's own routes, and a manual token clock. */
import { expect } from "vitest";
import { useTokenClock } from "../../../workers/tokens/verify.ts";
import { call } from "../helpers.ts";

/** Mints a token with the dev admin token; fails the test unless it answers 201. */
export async function mint(
  body: Record<string, unknown>,
): Promise<{ id: string; token: string; expiresAt: number }> {
  const res = await call("POST", "/v1/tokens", body);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** Mints a token with one scope. */
export async function scoped(resource: string, ...actions: string[]): Promise<string> {
  return (await mint({ scopes: [{ resource, actions }] })).token;
}

/** Mints a token with one scope and a limit of `requests` calls a minute. */
export async function rateLimited(resource: string, requests: number, ...actions: string[]): Promise<string> {
  return (await mint({ scopes: [{ resource, actions }], rateLimit: { requests, periodMs: 60_000 } })).token;
}

/** A clock the test moves by hand, installed as the isolate's token clock. */
export function manualTokenClock(start = Date.now()) {
  const clock = {
    at: start,
    now: () => clock.at,
    advance(ms: number) {
      clock.at += ms;
    },
  };
  useTokenClock(clock);
  return clock;
}
