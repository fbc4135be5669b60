import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { httpCatalog } from "../../../shared/client/catalog.ts";
import { HttpTransport } from "../../../shared/client/http.ts";
import { ApiError } from "../../../shared/errors.ts";
import { TOKEN, unique } from "../helpers.ts";

// The first test also starts the runtime, which a loaded machine makes slow.
vi.setConfig({ testTimeout: 15_000 });

const catalog = httpCatalog(
  new HttpTransport({ baseUrl: "http://localhost", token: TOKEN, fetch: (r) => exports.default.fetch(r) }),
);

describe("the catalog client", () => {
  it("lists a page and walks every page to the end", async () => {
    const p = unique("client");
    const names = Array.from({ length: 7 }, (_, i) => `${p}-${i}`);
    for (const n of names) await env.CATALOG.getByName("breakers").note(n, 5);

    const first = await catalog.list("breakers", { prefix: p, limit: 3 });
    expect(first).toEqual({
      ok: true,
      value: {
        items: names.slice(0, 3).map((name) => ({ name, createdAt: 5, lastUsedAt: 5 })),
        cursor: expect.any(String),
      },
    });
    const walked: string[] = [];
    for await (const entry of catalog.all("breakers", { prefix: p, limit: 2 })) walked.push(entry.name);
    expect(walked).toEqual(names);
  });

  it("answers a bad query as a result, and all() throws it", async () => {
    const bad = await catalog.list("locks", { limit: 0 });
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_request", details: { field: "limit" } } });
    await expect(catalog.all("locks", { prefix: "no spaces" }).next()).rejects.toBeInstanceOf(ApiError);
  });
});
