/** What every benchmark suite receives and returns; `bench/run.ts` prints the rows as one table. */

export interface BenchContext {
  /** The Worker under test, started by the harness with `wrangler dev`. */
  baseUrl: string;
  /** A bearer token it accepts. */
  token: string;
  /** Fewer operations, for a smoke run (`npm run bench -- --quick`). */
  quick: boolean;
  /** The Upstash-compatible gateway the Worker's Redis features use, when a Redis answered. */
  redisGateway?: { url: string; token: string };
  /** Runs one row; with `BENCH_PROFILE=1` also reports where the Worker's CPU went meanwhile. */
  profiled<T>(label: string, run: () => Promise<T>): Promise<T>;
}

export interface BenchRow {
  /** The capability: "http", "locks", "queue", "resilience", ... */
  suite: string;
  /** What was measured, e.g. "acquire+release, 100 locks". */
  name: string;
  /** Operations completed. */
  ops: number;
  opsPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
  /** A ratio or remark, e.g. "62 % of /health". */
  note?: string;
}

/** A suite: runs its measurements and returns one row each. */
export type BenchSuite = (ctx: BenchContext) => Promise<BenchRow[]>;
