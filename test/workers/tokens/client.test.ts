import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HttpTransport } from "../../../shared/client/http.ts";
import { httpLocks, LockClient, rpcLocks } from "../../../shared/client/locks.ts";
import { mintToken, scopedBinding, TokenClient } from "../../../shared/client/tokens.ts";
import { unwrap } from "../../../shared/errors.ts";
import { TOKEN, unique } from "../helpers.ts";

const baseUrl = "http://localhost";
const fetchWorker = (r: Request) => exports.default.fetch(r);

describe("the typed client and scoped tokens", () => {
  it("mints with an admin token, then any client works with the scoped token, and revokes it", async () => {
    const name = unique("cl");
    const minted = unwrap(
      await mintToken(
        { baseUrl, token: TOKEN, fetch: fetchWorker },
        { scopes: [{ resource: `locks:${name}*`, actions: ["read", "write"] }], label: "client test" },
      ),
    );
    const locks = new LockClient(
      httpLocks(new HttpTransport({ baseUrl, token: minted.token, fetch: fetchWorker })),
    );
    expect(await locks.withLock(`${name}-1`, async ({ token }) => token)).toBeGreaterThan(0);
    const outside = await locks.api.info("elsewhere");
    expect(outside).toMatchObject({ ok: false, error: { code: "forbidden" } });

    const admin = TokenClient.http({ baseUrl, token: TOKEN, fetch: fetchWorker });
    const listed = unwrap(await admin.list({ limit: 1000 }));
    expect(listed.tokens.find((t) => t.id === minted.id)).toMatchObject({ label: "client test" });
    expect(unwrap(await admin.revoke(minted.id))).toEqual({ revoked: true });
    expect(await locks.api.info(`${name}-1`)).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    // A scoped token cannot mint.
    const scopedAdmin = TokenClient.http({ baseUrl, token: minted.token, fetch: fetchWorker });
    expect(await scopedAdmin.mint({ scopes: [{ resource: "locks:*", actions: ["read"] }] })).toMatchObject({
      ok: false,
    });
  }, 30_000);

  it("narrows a service binding to a scoped token", async () => {
    const name = unique("cl");
    const { token } = unwrap(
      await mintToken(
        { baseUrl, token: TOKEN, fetch: fetchWorker },
        { scopes: [{ resource: `locks:${name}`, actions: ["write", "read"] }] },
      ),
    );
    const locks = new LockClient(rpcLocks(scopedBinding(exports.SwitchyardRpc, token)));
    expect(await locks.withLock(name, async ({ token: fence }) => fence)).toBeGreaterThan(0);
    expect(await locks.api.info(`${name}-x`)).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });
});
