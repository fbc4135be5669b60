/**
 * Starts the Worker the way `wrangler dev` does, through wrangler's programmatic API, with its
 * Durable Object state in a directory of the test's choosing so that a restart finds it again.
 */
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type Unstable_DevWorker, unstable_dev } from "wrangler";
import { type Answer, callWorker } from "../answer.ts";

export const TOKEN = "switchyard-dev-token";

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * The command line of `wrangler dev` as a child process (which a test may kill): this Node runs
 * wrangler's entry with `before` (e.g. `-c` configurations) and `after` around the common flags.
 */
export async function wranglerDevCommand(
  port: number,
  stateDir: string,
  { before = [], after = [] }: { before?: string[]; after?: string[] } = {},
): Promise<{ command: string; args: string[]; env: NodeJS.ProcessEnv }> {
  const args = [
    join("node_modules", "wrangler", "bin", "wrangler.js"),
    "dev",
    ...before,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    stateDir,
    ...after,
    "--log-level",
    "error",
  ];
  return { command: process.execPath, args, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } };
}

export interface RunningWorker {
  baseUrl: string;
  port: number;
  stop(): Promise<void>;
  /** Calls the Worker with the dev token; JSON in, status and JSON out (read it with `bodyOf`). */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
}

/** Starts the Worker on 127.0.0.1 (on `port` if given) with state persisted under `stateDir`. */
export async function startWorker(stateDir: string, port?: number): Promise<RunningWorker> {
  const worker: Unstable_DevWorker = await unstable_dev("workers/index.ts", {
    config: "wrangler.toml",
    ip: "127.0.0.1",
    port: port ?? (await freePort()),
    inspectorPort: await freePort(),
    persistTo: stateDir,
    logLevel: "warn",
    experimental: { disableExperimentalWarning: true, watch: false },
  });
  const baseUrl = `http://127.0.0.1:${worker.port}`;
  return {
    baseUrl,
    port: worker.port,
    stop: () => worker.stop(),
    call: (method, path, body) => callWorker(baseUrl, TOKEN, method, path, body),
  };
}

/** The Worker of one test file: started before its tests with fresh state, stopped after. */
export interface FileWorker {
  readonly current: RunningWorker;
  /** Stops the Worker and starts it again on the same port with the same state. */
  restart(): Promise<void>;
}

/** Registers `beforeAll` / `afterAll` hooks that run a Worker for the calling test file. */
export function workerForFile(): FileWorker {
  let stateDir = "";
  let worker: RunningWorker | undefined;
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "switchyard-worker-"));
    worker = await startWorker(stateDir);
  });
  afterAll(async () => {
    await worker?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });
  return {
    get current() {
      if (!worker) throw new Error("the Worker is not running");
      return worker;
    },
    async restart() {
      const port = this.current.port;
      await this.current.stop();
      worker = await startWorker(stateDir, port);
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
