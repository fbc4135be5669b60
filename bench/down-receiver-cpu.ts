/**
 * Issue 17's measurement: the CPU the local runtime (workerd) spends over 60 s while a topic holds
 * 10,000 undelivered events for a webhook receiver that refuses every connection. Starts the
 * Worker of the current directory with `wrangler dev`'s API, reads the runtime's CPU time from
 * /proc. Run from a checkout: `node bench/down-receiver-cpu.ts` (or, for another checkout,
 * `cd ../other && node /path/to/bench/down-receiver-cpu.ts`). Not part of `npm run bench`.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_dev } from "wrangler";

const TOKEN = "switchyard-dev-token";
const EVENTS = 10_000;
const WINDOW_MS = 60_000;
const TICKS_PER_SECOND = 100;

/** Parent pid and CPU ticks (user + system) of a process. */
async function stat(pid: number): Promise<{ ppid: number; ticks: number; name: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const name = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), name };
  } catch {
    return undefined;
  }
}

/** The workerd processes started by this process, with their CPU ticks. */
async function runtimeTicks(): Promise<number> {
  const all = new Map<number, { ppid: number; ticks: number; name: string }>();
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = await stat(pid);
    if (s) all.set(pid, s);
  }
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
      if (p === process.pid) return true;
      p = all.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, s] of all) if (s.name.startsWith("workerd") && ours(pid)) ticks += s.ticks;
  return ticks;
}

const stateDir = await mkdtemp(join(tmpdir(), "down-receiver-"));
const worker = await unstable_dev("workers/index.ts", {
  config: "wrangler.toml",
  ip: "127.0.0.1",
  persistTo: stateDir,
  logLevel: "error",
  experimental: { disableExperimentalWarning: true, watch: false },
});
const base = `http://127.0.0.1:${worker.port}/v1/topics/cpu-down`;
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
};
try {
  await call("PUT", "/config", { maxUndelivered: 1_000_000 });
  // Nothing listens on the discard port: every attempt is refused.
  await call("POST", "/subscriptions", { url: "http://127.0.0.1:9/hook", maxAttempts: 50 });
  for (let i = 0; i < EVENTS; i += 500) {
    const res = await call("POST", "/events", {
      events: Array.from({ length: 500 }, (_, j) => ({ type: "job.done", data: { n: i + j } })),
    });
    if (res.status !== 202) throw new Error(`publish: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const start = await runtimeTicks();
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const ticks = (await runtimeTicks()) - start;
  const seconds = (Date.now() - startedAt) / 1000;
  const stats = (await call("GET", "/stats")).body;
  console.log(
    JSON.stringify({
      pending: stats.pending,
      failed: stats.failed,
      receiver: stats.subscriptions[0]?.receiver,
      cpuSeconds: ticks / TICKS_PER_SECOND,
      windowSeconds: seconds,
      cpuPercentOfACore: Number(((100 * ticks) / TICKS_PER_SECOND / seconds).toFixed(2)),
    }),
  );
} finally {
  await worker.stop();
  await rm(stateDir, { recursive: true, force: true });
}
