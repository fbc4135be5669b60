/** The dev token is admin only where local development turns it on, whatever the request's URL. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../workers/app.ts";
import { DEV_TOKEN } from "../../../workers/http/auth.ts";

const ctx = {
  waitUntil: () => {},
  passThroughOnException: () => {},
  props: {},
} as unknown as ExecutionContext;

async function status(url: string, vars: Partial<typeof env>): Promise<number> {
  const req = new Request(url, { headers: { authorization: `Bearer ${DEV_TOKEN}` } });
  return (await app.fetch(req, { ...env, ...vars }, ctx)).status;
}

describe("the dev token", () => {
  it("is refused on loopback URLs (as a service binding's would be) once ALLOW_DEV_TOKEN is off", async () => {
    for (const url of [
      "http://localhost/v1/locks/x",
      "http://127.0.0.1/v1/locks/x",
      "http://[::1]/v1/locks/x",
    ]) {
      expect(await status(url, { ALLOW_DEV_TOKEN: undefined, API_TOKENS: "a-real-token" })).toBe(401);
      expect(await status(url, { ALLOW_DEV_TOKEN: undefined, API_TOKENS: undefined })).toBe(401);
      expect(await status(url, { ALLOW_DEV_TOKEN: "true" })).toBe(200);
    }
  });

  it("cannot mint where local development is off", async () => {
    const req = new Request("http://localhost/v1/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${DEV_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ scopes: [{ resource: "locks:*", actions: ["read"] }] }),
    });
    expect((await app.fetch(req, { ...env, ALLOW_DEV_TOKEN: undefined }, ctx)).status).toBe(401);
  });

  it("minting without TOKEN_SIGNING_KEYS is 400 not_configured, after the body is checked", async () => {
    const mint = (body: unknown) =>
      app.fetch(
        new Request("http://localhost/v1/tokens", {
          method: "POST",
          headers: { authorization: `Bearer ${DEV_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }),
        { ...env, TOKEN_SIGNING_KEYS: undefined },
        ctx,
      );
    const bad = await mint({ scopes: [] });
    expect(((await bad.json()) as { error: { details: { field: string } } }).error.details.field).toBe(
      "scopes",
    );
    const res = await mint({ scopes: [{ resource: "locks:*", actions: ["read"] }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "not_configured", details: { field: "TOKEN_SIGNING_KEYS" } },
    });
  });
});
