/**
 * Routers for Workers and Durable Objects: {@link createDb} builds one over the cluster's
 * Hyperdrive bindings, with the topology from the cluster object cached per isolate.
 */
import { CLUSTER_OBJECT } from "../../durable-objects/db-cluster/object.ts";
import { connectionStringOf, type DbConfig, loadDbConfig } from "../../shared/db/config.ts";
import { Db, DbUnavailableError, type TopologySource } from "../../shared/db/ha.ts";
import { PoolManager, type PoolOptions } from "../../shared/db/pool.ts";
import { isConnectionError, type PgConnection, pgConnector } from "../../shared/db/postgres.ts";
import { openPgSocket } from "../../shared/db/socket.ts";
import type { Topology } from "../../shared/db/topology.ts";
import type { Env } from "../../shared/env.ts";
import type { Result } from "../../shared/errors.ts";

const configs = new WeakMap<object, DbConfig | undefined>();
/** The topology last fetched by this isolate; plain data, so requests may share it. */
let cached: { topology: Topology; at: number } | undefined;

function configOf(env: Env): DbConfig {
  if (!configs.has(env)) configs.set(env, loadDbConfig(env));
  const config = configs.get(env);
  if (!config) throw new DbUnavailableError("no database cluster is configured (DB_NODES is unset)");
  return config;
}

/** The cluster object's topology, reused for `topologyCacheMs` by every request of the isolate. */
export function clusterTopology(env: Env, ttlMs: number): TopologySource {
  const fetchTopology = async (): Promise<Topology> => {
    // The stub's type drops the failure branch (its `details` is not serialisable as typed).
    const result = (await env.DB_CLUSTER.getByName(CLUSTER_OBJECT).topology()) as Result<Topology>;
    if (!result.ok) throw new DbUnavailableError(result.error.message);
    cached = { topology: result.value, at: Date.now() };
    return result.value;
  };
  return {
    get() {
      if (cached && Date.now() - cached.at < ttlMs) return cached.topology;
      return fetchTopology();
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/**
 * A router with one pool per node. In a Worker make one per request and close it with
 * `ctx.waitUntil(db.close())` (connections cannot outlive the request); in a Durable Object one
 * per object. `afterLsn` carries read-your-writes over from an earlier request.
 * @example
 * const db = createDb(env, { afterLsn: cookie });
 * await db.write((sql) => sql`update stock set n = n - 1 where sku = ${sku}`);
 * const [row] = await db.read((sql) => sql`select n from stock where sku = ${sku}`, { maxLagMs: 1000 });
 */
export function createDb(env: Env, options: { afterLsn?: string; pool?: PoolOptions } = {}): Db {
  const config = configOf(env);
  const pools = new PoolManager<PgConnection>();
  for (const node of config.nodes) {
    pools.add(node.name, pgConnector(connectionStringOf(env, node), { socket: openPgSocket }), {
      isBroken: isConnectionError,
      ...options.pool,
    });
  }
  return new Db({
    topology: clusterTopology(env, config.ha.topologyCacheMs),
    pools,
    ...(options.afterLsn !== undefined && { afterLsn: options.afterLsn }),
  });
}
