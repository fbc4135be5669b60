/**
 * Where `npm run dev` keeps its Postgres and on which port, so that a second checkout's
 * `npm run dev` runs beside the first: its own data directory and a free port.
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, reachableByOthers } from "./postgres-cluster.ts";

/** The port wrangler.toml's `localConnectionString` names. */
export const DEFAULT_DEV_PG_PORT = 54329;

/** `preferred` when nothing listens there, else another free port. */
export async function devPostgresPort(preferred = DEFAULT_DEV_PG_PORT): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(freePort()));
    probe.listen(preferred, "127.0.0.1", () => probe.close(() => resolve(preferred)));
  });
}

/**
 * The checkout's own data directory: `.wrangler/dev-postgres` inside it, or, when Postgres's
 * unprivileged user (root runs it as `nobody`) cannot reach the checkout, a temp directory named
 * for the checkout's path.
 */
export async function devDataRoot(checkout: string): Promise<string> {
  const inCheckout = join(checkout, ".wrangler", "dev-postgres");
  await mkdir(inCheckout, { recursive: true, mode: 0o755 });
  if (process.getuid?.() !== 0 || (await reachableByOthers(join(inCheckout, "pg-1")))) return inCheckout;
  const id = createHash("sha256").update(checkout).digest("hex").slice(0, 12);
  return join(tmpdir(), `switchyard-dev-postgres-${id}`);
}
