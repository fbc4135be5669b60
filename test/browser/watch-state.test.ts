/**
 * docs/examples/watch-state.html, the page docs/security.md gives browsers, in Chromium with a
 * read-only token: it shows the values there are, then every change, and stops when the token is
 * revoked. The page is served on the Worker's own origin (routed by the browser, not the Worker).
 */
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { MintedToken } from "../../shared/schemas/tokens.ts";
import { bodyOf } from "../integration/answer.ts";
import { browserSession, OUTPUT } from "./browser.ts";

// A page the browser routes has no address, so Chromium counts it as public and blocks its
// WebSocket to 127.0.0.1 (Local Network Access); a page served from a host would not be.
const session = browserSession(["--disable-features=LocalNetworkAccessChecks"]);
const WAIT = { timeout: 15_000 };

/** The page's table as [key, value, version] rows. */
async function rows(page: Page): Promise<string[][]> {
  return page
    .locator("#rows tr")
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
}

/** Opens the example page, routed on the Worker's own origin, on `ns` with a read-only token. */
async function openPage(ns: string): Promise<{ page: Page; errors: string[]; tokenId: string }> {
  const { baseUrl, call } = session.worker;
  const minted = bodyOf(
    MintedToken,
    await call("POST", "/v1/tokens", { scopes: [{ resource: `state:${ns}`, actions: ["read"] }] }),
  );
  const { page, errors } = await session.open({ width: 900, height: 500 });
  const html = await readFile("docs/examples/watch-state.html", "utf8");
  await page.route(`${baseUrl}/examples/watch-state.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: html }),
  );
  const hash = new URLSearchParams({ base: baseUrl, ns, token: minted.token });
  await page.goto(`${baseUrl}/examples/watch-state.html#${hash}`);
  return { page, errors, tokenId: minted.id };
}

describe("the watch-state example page in Chromium", () => {
  it("shows the values there are, then each change, and stops when its read-only token is revoked", async () => {
    const { call } = session.worker;
    const ns = "example-page";
    await call("PUT", `/v1/state/${ns}/plan`, { value: { tier: "pro" } });
    await call("PUT", `/v1/state/${ns}/seats`, { value: 3 });
    await call("PUT", `/v1/state/${ns}/gone`, { value: "soon" });
    const { page, errors, tokenId } = await openPage(ns);
    await page.getByText("live").waitFor(WAIT);
    expect(await rows(page)).toEqual([
      ["gone", '"soon"', "3"],
      ["plan", '{"tier":"pro"}', "1"],
      ["seats", "3", "2"],
    ]);

    await call("PUT", `/v1/state/${ns}/seats`, { value: 4 });
    await call("DELETE", `/v1/state/${ns}/gone`);
    await call("PUT", `/v1/state/${ns}/added`, { value: true });
    await expect
      .poll(() => rows(page), WAIT)
      .toEqual([
        ["added", "true", "6"],
        ["plan", '{"tier":"pro"}', "1"],
        ["seats", "4", "4"],
      ]);
    await page.screenshot({ path: `${OUTPUT}/watch-state.png` });

    expect((await call("DELETE", `/v1/tokens/${tokenId}`)).status).toBe(200);
    await page.getByText("stopped (token expired or revoked?)").waitFor(WAIT);
    expect(errors).toEqual([]);
  });

  it("reads values that do not fit one answer in smaller batches", async () => {
    const { call } = session.worker;
    const ns = "example-big";
    // 33 strings of 256 KiB: over the 8 MiB one read may answer, so the page's first batch gets 413.
    const big = "x".repeat(256 * 1024);
    const keys = Array.from({ length: 33 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    for (const key of keys) await call("PUT", `/v1/state/${ns}/${key}`, { value: big });
    expect((await call("POST", `/v1/state/${ns}/read`, { keys })).status).toBe(413);
    const { page, errors } = await openPage(ns);
    await page.getByText("live").waitFor(WAIT);
    expect(await page.locator("#rows tr").count()).toBe(33);
    expect(errors).toEqual([]);
  });
});
