import { describe, expect, it } from "vitest";
import { call } from "./helpers.ts";

/** Every `src` / `href` in an HTML page. */
function references(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? "");
}

// The first request of a file starts the Worker, which takes seconds on a busy machine.
describe("public pages", { timeout: 30_000 }, () => {
  it.each([
    ["/docs", "getApiReference"],
    ["/console", "getOperatorConsole"],
  ])(
    "%s is public HTML that loads nothing from another host, declared with security: []",
    async (path, id) => {
      const res = await call("GET", path, undefined, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const html = res.text;
      for (const ref of references(html)) expect(ref, `${path} refers to ${ref}`).toMatch(/^(\/|#)/);
      expect(html).not.toMatch(/https?:\/\//);

      const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
      expect(doc.paths[path]?.get).toMatchObject({ operationId: id, security: [] });
    },
  );

  it("the console's first view is a token input", async () => {
    const html = (await call("GET", "/console", undefined, { token: null })).text;
    expect(html).toMatch(/<input type="password" id="token"/);
  });
});
