/** The Worker's bindings and variables: the one hand-kept place where they are typed. */
import type { DbClusterObject } from "../durable-objects/db-cluster.ts";
import type { LockObject } from "../durable-objects/lock.ts";

export interface Env {
  /** Comma-separated bearer tokens. Unset: only the documented dev token, and only on loopback. */
  API_TOKENS?: string;
  LOCKS: DurableObjectNamespace<LockObject>;
  DB_CLUSTER: DurableObjectNamespace<DbClusterObject>;
  /** JSON: the Postgres nodes (name, region, Hyperdrive binding, initial role); see docs/db.md. */
  DB_NODES?: string;
  /** JSON: health-check and failover settings; see docs/db.md. */
  DB_HA?: string;
}
