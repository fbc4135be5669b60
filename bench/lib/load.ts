/** A closed-loop load driver: `concurrency` loops run `op` back to back until a count or a deadline. */

export interface LoadOptions {
  /** Loops running at once. */
  concurrency: number;
  /** Stop after this many operations in all... */
  total?: number;
  /** ...or after this long, whichever comes first (default 5 s). */
  durationMs?: number;
  /** One operation; `i` counts from 0 across all loops. */
  op: (i: number) => Promise<void>;
}

export interface LoadResult {
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** The q-quantile (0..1) of sorted latencies. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** How many latencies, and their p50 and p99. */
export interface LatencySummary {
  calls: number;
  p50Ms: number;
  p99Ms: number;
}

/** The count, p50 and p99 of `latencies` (in any order). */
export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { calls: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
}

/** Runs the load and reports throughput and per-operation latency. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const durationMs = opts.durationMs ?? 5_000;
  const total = opts.total ?? Number.POSITIVE_INFINITY;
  const latencies: number[] = [];
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const loop = async () => {
    while (started < total && performance.now() < deadline) {
      const i = started++;
      const s = performance.now();
      await opts.op(i);
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    opsPerSec: latencies.length / elapsed,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}
