/**
 * A real Chromium (Debian's `chromium` package, driven by playwright-core; nothing downloaded)
 * against a Worker started with wrangler's API, for the browser tests of the console and `/docs`.
 */
import { mkdir } from "node:fs/promises";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type RunningWorker, workerForFile } from "../integration/bus/worker.ts";

/** Where the screenshots go (gitignored); docs/img/ keeps the two the README shows. */
export const OUTPUT = "test-output";

/** Debian's package; `.ci/run` installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface Session {
  readonly worker: RunningWorker;
  readonly browser: Browser;
  /** A new context and page, recording every page error and console error. */
  open(options?: {
    width?: number;
    height?: number;
  }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
}

/**
 * Starts one Worker (fresh state) and one Chromium (with `args` besides `--no-sandbox`) for the
 * calling file. `Failed to load resource`
 * lines are Chromium reporting 4xx answers the console asked for on purpose (a 404 from a route this
 * server lacks, a 403 on a probe); they are not script errors, so they are not recorded.
 */
export function browserSession(args: readonly string[] = []): Session {
  const worker = workerForFile();
  let browser: Browser | undefined;
  beforeAll(async () => {
    await mkdir(OUTPUT, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", ...args] });
  });
  // Hooks stack: the browser closes before the Worker stops.
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get worker() {
      return worker.current;
    },
    get browser() {
      if (!browser) throw new Error("the browser is not running");
      return browser;
    },
    async open({ width = 1280, height = 860 } = {}) {
      const context = await this.browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
          errors.push(`console: ${message.text()}`);
        }
      });
      return { context, page, errors };
    },
  };
}

/** Opens the console and signs in with `token`. */
export async function signIn(page: Page, baseUrl: string, token: string, hash = ""): Promise<void> {
  await page.goto(`${baseUrl}/console${hash}`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}
