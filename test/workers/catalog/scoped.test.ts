import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, unique } from "../helpers.ts";
import { list } from "./helpers.ts";

vi.setConfig({ testTimeout: 15_000 });

/** Mints a scoped token with the dev (admin) token; undefined where `/v1/tokens` is not built yet. */
async function mint(scopes: Array<{ resource: string; actions: string[] }>): Promise<string | undefined> {
  const res = await call("POST", "/v1/tokens", { scopes, ttlMs: 60_000 });
  if (res.status === 404 || res.status === 405) return undefined;
  expect(res.status).toBe(201);
  return res.body.token;
}

describe("listings with a scoped token", () => {
  it("show only the names a read scope covers, filtered before paging", async (t) => {
    const p = unique("scoped");
    const reader = await mint([{ resource: `queues:${p}-b*`, actions: ["read"] }]);
    if (!reader) return t.skip();
    for (const s of ["a1", "a2", "a3", "b1", "b2", "b3", "c1"]) {
      await env.CATALOG.getByName("queues").note(`${p}-${s}`, 1);
    }
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { prefix: p, limit: "3", ...(cursor ? { cursor } : {}) };
      const res = await call("GET", `/v1/queues?${new URLSearchParams(query)}`, undefined, { token: reader });
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((i: { name: string }) => i.name.slice(p.length + 1)));
      cursor = res.body.cursor;
    } while (cursor !== null);
    expect(pages).toEqual([[], ["b1", "b2", "b3"], []]);
    // The admin token sees every name.
    expect((await list("queues", { prefix: p })).body.items).toHaveLength(7);
  });

  it("answer 403 to a token with no read scope on the capability", async (t) => {
    const writer = await mint([
      { resource: "queues:*", actions: ["write"] },
      { resource: "locks:*", actions: ["read"] },
    ]);
    if (!writer) return t.skip();
    expect((await call("GET", "/v1/queues", undefined, { token: writer })).status).toBe(403);
    expect((await call("GET", "/v1/topics", undefined, { token: writer })).status).toBe(403);
    expect((await call("GET", "/v1/locks", undefined, { token: writer })).status).toBe(200);
  });
});
