/** Starting `wrangler dev` for the benchmarks: a free port, fresh local state, quiet logs. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * `wrangler dev` on `port` with its state in `stateDir`, resolved once `/health` answers 200;
 * `extraArgs` adds `--var`s or `-c` configs (the first config's Worker is the one on the port).
 */
export async function startWorker(
  port: number,
  stateDir: string,
  extraArgs: string[],
): Promise<ChildProcess> {
  const child = spawn(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      stateDir,
      // Request logging costs the dev server a third of its no-op throughput.
      "--log-level",
      "error",
      ...extraArgs,
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${stderr}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error(`wrangler dev did not answer within 90 s: ${stderr}`);
}
