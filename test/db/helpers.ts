/** Helpers for tests against the real cluster of the `db` project (see test/db-setup/global-setup.ts). */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import { CLUSTER_OBJECT } from "../../durable-objects/db-cluster/object.ts";
import { type PgConnection, pgConnector } from "../../shared/db/postgres.ts";
import { openPgSocket } from "../../shared/db/socket.ts";
import type { DbTestCluster } from "../db-setup/global-setup.ts";

// The type import also brings the `dbCluster` key of vitest's ProvidedContext into scope.
const cluster: DbTestCluster = inject("dbCluster");
const settings = JSON.parse(cluster.vars.DB_HA) as {
  checkIntervalMs: number;
  failureThreshold: number;
};

/** The K and interval the project configures. */
export const FAILURE_THRESHOLD = settings.failureThreshold;
export const CHECK_INTERVAL_MS = settings.checkIntervalMs;

/** A node action of the control server (see test/db-setup/global-setup.ts). */
type ControlAction = "stop" | "crash" | "start" | "rejoin" | "refuse-promotion" | "allow-promotion";

/** Asks the control server to stop, crash, start or rebuild a node, or to make it refuse promotion. */
export async function control(node: string, action: ControlAction, primary?: string) {
  const query = primary ? `?primary=${primary}` : "";
  const res = await fetch(`${cluster.control}/nodes/${node}/${action}${query}`, {
    method: "POST",
  });
  if (res.status !== 204) throw new Error(`control ${node} ${action}: ${await res.text()}`);
}

/** Runs `n` rounds of checks through the cluster object's alarm. */
export async function runChecks(n = 1): Promise<void> {
  const stub = env.DB_CLUSTER.getByName(CLUSTER_OBJECT);
  for (let i = 0; i < n; i++) {
    if (!(await runDurableObjectAlarm(stub))) throw new Error("the cluster object had no alarm set");
  }
}

const bindings = { "pg-1": "DB_PG1", "pg-2": "DB_PG2", "pg-3": "DB_PG3" } as const;

/** The port of the primary a replica's WAL receiver streams from (undefined when not streaming). */
export async function streamsFrom(replica: keyof typeof bindings): Promise<number | undefined> {
  return onNode(replica, async (sql) => {
    const [row] = await sql<
      { port: number | null }[]
    >`select sender_port as port from pg_stat_wal_receiver where status = 'streaming'`;
    return row?.port ?? undefined;
  });
}

/** A node's port, from its connection string. */
export function portOf(node: keyof typeof bindings): number {
  return Number(new URL(cluster.hyperdrives[bindings[node]] ?? "").port);
}

/** A direct connection to one node, bypassing routing; end it when done. */
export async function direct(node: keyof typeof bindings): Promise<PgConnection> {
  const hyperdrive = (env as unknown as Record<string, Hyperdrive>)[bindings[node]] as Hyperdrive;
  return pgConnector(hyperdrive.connectionString, { socket: openPgSocket }).open();
}

/** Runs `fn` on a direct connection to `node` and closes it. */
export async function onNode<T>(
  node: keyof typeof bindings,
  fn: (sql: PgConnection) => Promise<T>,
): Promise<T> {
  const sql = await direct(node);
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** Whether the connection is to a replica (in recovery). */
export async function onReplica(sql: PgConnection): Promise<boolean> {
  const [row] = await sql<{ replica: boolean }[]>`select pg_is_in_recovery() as replica`;
  return row?.replica === true;
}

/** Polls `probe` every 20 ms until it is true or `ms` pass (then throws). */
export async function until(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the replica has replayed everything the primary has written so far. */
export async function replicaCaughtUp(primary: keyof typeof bindings, replica: keyof typeof bindings) {
  const lsn = await onNode(
    primary,
    async (sql) => (await sql`select pg_current_wal_insert_lsn()::text as l`)[0]?.l,
  );
  await until(`${replica} to replay ${lsn}`, () =>
    onNode(
      replica,
      async (sql) => (await sql`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as ok`)[0]?.ok,
    ),
  );
}
