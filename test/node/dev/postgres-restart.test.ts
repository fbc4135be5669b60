/**
 * `npm run dev` after a hard kill: a stale `postmaster.pid` or an orphaned Postgres from the
 * earlier run must not stop the next start; a second checkout runs beside the first (real
 * embedded Postgres, real processes).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { devDataRoot, devPostgresPort } from "../../../scripts/lib/dev-postgres.ts";
import {
  clearStaleServer,
  freePort,
  type PgNode,
  startPrimary,
} from "../../../scripts/lib/postgres-cluster.ts";

const roots: string[] = [];
const nodes: PgNode[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop("immediate")));
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function freshPrimary(): Promise<{ root: string; node: PgNode }> {
  const root = await mkdtemp(join(tmpdir(), "switchyard-dev-restart-"));
  roots.push(root);
  const node = await startPrimary(root, "pg-1", await freePort());
  nodes.push(node);
  return { root, node };
}

describe("starting Postgres for npm run dev after a hard kill", () => {
  it("removes a postmaster.pid whose process is gone, and starts", async () => {
    const { root, node } = await freshPrimary();
    await node.stop("immediate");
    // As after SIGKILL: the pid file stays, naming a process that no longer runs.
    const pidFile = join(node.dataDir, "postmaster.pid");
    await writeFile(pidFile, `999999\n${node.dataDir}\n`);
    expect(await clearStaleServer(node.dataDir)).toBe("stale-pid");
    const again = await startPrimary(root, "pg-1", await freePort());
    nodes.push(again);
    expect(again.running).toBe(true);
  }, 60_000);

  it("stops an orphaned server still serving the directory, then starts a new one", async () => {
    const { root, node } = await freshPrimary();
    const pid = Number.parseInt(
      (await readFile(join(node.dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    expect(await clearStaleServer(node.dataDir)).toBe("orphan");
    await expect(readFile(`/proc/${pid}/cmdline`)).rejects.toThrow();
    const again = await startPrimary(root, "pg-1", await freePort());
    nodes.push(again);
    expect(again.running).toBe(true);
  }, 60_000);

  it("finds nothing to clear in a directory that was shut down cleanly", async () => {
    const { node } = await freshPrimary();
    await node.stop("fast");
    expect(await clearStaleServer(node.dataDir)).toBe("none");
  }, 60_000);
});

describe("a second checkout's npm run dev beside the first", () => {
  it("gets its own data directory and, with the first one's port taken, another free port", async () => {
    const checkouts = await Promise.all([1, 2].map(() => mkdtemp(join(tmpdir(), "switchyard-checkout-"))));
    roots.push(...checkouts);
    const [first, second] = checkouts as [string, string];
    const firstRoot = await devDataRoot(first);
    const secondRoot = await devDataRoot(second);
    expect(firstRoot).not.toBe(secondRoot);
    roots.push(firstRoot, secondRoot);

    const firstPort = await devPostgresPort(await freePort());
    const one = await startPrimary(firstRoot, "pg-1", firstPort);
    nodes.push(one);
    // The first checkout's Postgres listens on its port now: the second one is given another.
    const secondPort = await devPostgresPort(firstPort);
    expect(secondPort).not.toBe(firstPort);
    const two = await startPrimary(secondRoot, "pg-1", secondPort);
    nodes.push(two);
    expect(one.running && two.running).toBe(true);
    expect(one.dataDir).not.toBe(two.dataDir);
  }, 60_000);
});
