/**
 * Resilience benchmarks. In process: the overhead of retry + circuit breaker + timeout around a
 * no-op async function, ours and cockatiel's side by side (same composition, same process,
 * interleaved rounds, best round kept). Against the Worker: the shared breaker's calls/s with its
 * cache on (default staleness and batching) and off (a round trip to ask and one to report per call).
 */
import {
  ConsecutiveBreaker,
  circuitBreaker as cockatielBreaker,
  retry as cockatielRetry,
  timeout as cockatielTimeout,
  wrap as cockatielWrap,
  handleAll,
  TimeoutStrategy,
} from "cockatiel";
import { circuitBreaker, retry, sharedBreaker, timeout, wrap } from "../shared/resilience/index.ts";
import { runLoad } from "./lib/load.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const noop = async () => undefined;

/** Calls/s of `execute(noop)` run back to back for `ops` calls. */
async function callsPerSecond(execute: () => Promise<unknown>, ops: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) await execute();
  return ops / ((performance.now() - t0) / 1000);
}

/** Ours and cockatiel's retry + breaker + timeout, alternating rounds; the best of each. */
async function inProcess(quick: boolean): Promise<BenchRow[]> {
  const ours = wrap(retry({ maxAttempts: 3 }), circuitBreaker({ consecutiveFailures: 5 }), timeout(1_000));
  // Aggressive: answers at the deadline like ours does, and aborts the task's signal too.
  const theirs = cockatielWrap(
    cockatielRetry(handleAll, { maxAttempts: 2 }),
    cockatielBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    cockatielTimeout(1_000, TimeoutStrategy.Aggressive),
  );
  const run = {
    ours: () => ours.execute(noop),
    cockatiel: () => theirs.execute(noop),
  };
  const ops = quick ? 20_000 : 200_000;
  const rounds = quick ? 2 : 5;
  const best = { ours: 0, cockatiel: 0 };
  await callsPerSecond(run.ours, ops / 10);
  await callsPerSecond(run.cockatiel, ops / 10);
  for (let r = 0; r < rounds; r++) {
    for (const who of ["ours", "cockatiel"] as const) {
      best[who] = Math.max(best[who], await callsPerSecond(run[who], ops));
    }
  }
  const ratio = best.ours / best.cockatiel;
  return [
    {
      suite: "resilience",
      name: "retry+breaker+timeout around a no-op (switchyard)",
      ops: ops * rounds,
      opsPerSec: Math.round(best.ours),
      note: `${ratio.toFixed(2)}× cockatiel`,
    },
    {
      suite: "resilience",
      name: "retry+breaker+timeout around a no-op (cockatiel 4)",
      ops: ops * rounds,
      opsPerSec: Math.round(best.cockatiel),
    },
  ];
}

/** The shared breaker around a no-op, through the Worker, with and without its cache. */
async function shared(ctx: BenchContext): Promise<BenchRow[]> {
  const durationMs = ctx.quick ? 1_000 : 5_000;
  const rows: BenchRow[] = [];
  for (const [label, options] of [
    ["cache on (staleMs 1000, batches of 100)", {}],
    ["cache off (staleMs 0, one report per call)", { staleMs: 0, maxBatch: 1 }],
  ] as const) {
    const name = `bench-${label.slice(0, 9).replace(/\W/g, "-")}-${crypto.randomUUID().slice(0, 8)}`;
    const policy = sharedBreaker(name, { baseUrl: ctx.baseUrl, token: ctx.token, ...options });
    const result = await runLoad({ concurrency: 16, durationMs, op: () => policy.execute(noop) });
    await policy.flush();
    rows.push({
      suite: "resilience",
      name: `sharedBreaker around a no-op, ${label}, 16 loops`,
      ops: result.ops,
      opsPerSec: Math.round(result.opsPerSec),
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      note: `${policy.requests} requests to the breaker`,
    });
  }
  return rows;
}

const suite: BenchSuite = async (ctx) => [...(await inProcess(ctx.quick)), ...(await shared(ctx))];

export default suite;
