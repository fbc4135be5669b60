/**
 * `npm run bench [-- --quick] [-- --only=locks,queue]`: starts the Worker with `wrangler dev` on a
 * free port with fresh local state, drives it from this process, and prints one table.
 * `BENCH_PROFILE=1` adds where the Worker's CPU time went in each row a suite wraps in `ctx.profiled` (bench/lib/cpu-profile.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevRedis } from "../scripts/lib/dev-redis.ts";
import { startProfiling } from "./lib/cpu-profile.ts";
import { freePort, startWorker } from "./lib/dev-server.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

/** Every suite, by name; each module's default export is a BenchSuite. */
const SUITES: Record<string, () => Promise<{ default: BenchSuite }>> = {
  locks: () => import("./locks.ts"),
  queue: () => import("./queue.ts"),
  flows: () => import("./flows.ts"),
  state: () => import("./state.ts"),
  bus: () => import("./bus.ts"),
  resilience: () => import("./resilience.ts"),
  db: () => import("./db.ts"),
  redis: () => import("./redis.ts"),
  hostile: () => import("./hostile.ts"),
  schedules: () => import("./schedules.ts"),
};

const TOKEN = "bench-token";

function table(rows: BenchRow[]): string {
  const fmt = (n: number | undefined, digits = 1) => (n === undefined ? "" : n.toFixed(digits));
  const lines = [
    "| suite | measurement | ops | ops/s | p50 ms | p99 ms | note |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.suite} | ${r.name} | ${r.ops} | ${fmt(r.opsPerSec, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.note ?? ""} |`,
    ),
  ];
  return lines.join("\n");
}

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const only = args
    .find((a) => a.startsWith("--only="))
    ?.slice("--only=".length)
    .split(",");
  const names = Object.keys(SUITES).filter((n) => !only || only.includes(n));
  const stateDir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const port = await freePort();
  // The Redis rows need the Upstash-compatible gateway over the local Redis, as `npm run dev` starts it.
  const redis = await startDevRedis([]);
  const inspectorPort = process.env.BENCH_PROFILE ? await freePort() : undefined;
  const inspectorArgs = inspectorPort ? ["--inspector-port", String(inspectorPort)] : [];
  const worker = await startWorker(port, stateDir, [
    "--var",
    `API_TOKENS:${TOKEN}`,
    ...redis.args,
    ...inspectorArgs,
  ]);
  const profiles: string[] = [];
  const profiled: BenchContext["profiled"] = async (label, run) => {
    if (!inspectorPort) return run();
    const profiling = await startProfiling(inspectorPort, worker.pid as number);
    const result = await run();
    profiles.push(`${label}:\n${await profiling.stop()}`);
    return result;
  };
  const ctx: BenchContext = { baseUrl: `http://127.0.0.1:${port}`, token: TOKEN, quick, profiled };
  if (redis.gateway) ctx.redisGateway = { url: redis.gateway.url, token: redis.gateway.token };
  const rows: BenchRow[] = [];
  try {
    for (const name of names) {
      const suite = (await (SUITES[name] as () => Promise<{ default: BenchSuite }>)()).default;
      process.stderr.write(`running ${name}...\n`);
      rows.push(...(await suite(ctx)));
    }
  } finally {
    worker.kill();
    await redis.gateway?.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  console.log(`Switchyard benchmark, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
  console.log(table(rows));
  if (profiles.length) console.log(`\nWhere the Worker's CPU went, per row:\n${profiles.join("\n")}`);
}

await main();
