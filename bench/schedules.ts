/**
 * Issue 18's schedules benchmark: the cost of one alarm ring of a queue holding 100, 1,000 and
 * 10,000 schedules, of which the same 10 are due at every ring (the rest run monthly or yearly).
 * bench/schedules-driver runs the queue object itself (metered: rows SQLite read and wrote per
 * ring) on its own `wrangler dev` and rings the three queues' alarms in turn, an hour of their
 * clock apart. With the due schedules read off an index on their next run, a ring costs the same
 * whatever the total.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startWorker } from "./lib/dev-server.ts";
import { quantile } from "./lib/load.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";
import type { RunAnswer } from "./schedules-driver/answer.ts";

const SIZES = [100, 1_000, 10_000];
const DUE = 10;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function row(answer: RunAnswer, baseline: { ms: number; rowsRead: number } | undefined): BenchRow {
  // The first ring also reads what the object loaded lazily; the steady state is what stays flat.
  const steady = answer.rings.slice(1);
  const ms = steady.map((r) => r.ms).sort((a, b) => a - b);
  const p50 = quantile(ms, 0.5);
  const rowsRead = mean(steady.map((r) => r.rowsRead));
  const rowsWritten = mean(steady.map((r) => r.rowsWritten));
  const statements = mean(steady.map((r) => r.statements));
  const ratio = baseline
    ? `; vs ${SIZES[0]} schedules: ${(p50 / baseline.ms).toFixed(2)}× time, ${(rowsRead / baseline.rowsRead).toFixed(2)}× rows read`
    : "";
  return {
    suite: "schedules",
    name: `alarm ring, ${answer.due} due of ${answer.schedules.toLocaleString("en")} schedules on one queue`,
    ops: steady.length,
    opsPerSec: steady.length / (ms.reduce((a, b) => a + b, 0) / 1000),
    p50Ms: p50,
    p99Ms: quantile(ms, 0.99),
    note: `per ring: ${rowsRead.toFixed(0)} rows read, ${rowsWritten.toFixed(0)} written, ${statements.toFixed(0)} statements${ratio}; seeded in ${(answer.seedMs / 1000).toFixed(1)} s`,
  };
}

const suite: BenchSuite = async (ctx: BenchContext) => {
  const stateDir = mkdtempSync(join(tmpdir(), "switchyard-bench-schedules-"));
  const port = await freePort();
  const worker = await startWorker(port, stateDir, ["-c", "bench/schedules-driver/wrangler.toml"]);
  const rings = ctx.quick ? 10 : 60;
  const rows: BenchRow[] = [];
  try {
    const query = new URLSearchParams({ sizes: SIZES.join(","), due: String(DUE), rings: String(rings) });
    const res = await fetch(`http://127.0.0.1:${port}/run?${query}`, { method: "POST" });
    if (!res.ok) throw new Error(`schedules driver answered ${res.status}: ${await res.text()}`);
    let baseline: { ms: number; rowsRead: number } | undefined;
    for (const answer of (await res.json()) as RunAnswer[]) {
      const r = row(answer, baseline);
      rows.push(r);
      baseline ??= { ms: r.p50Ms as number, rowsRead: mean(answer.rings.slice(1).map((x) => x.rowsRead)) };
    }
  } finally {
    worker.kill();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return rows;
};

export default suite;
