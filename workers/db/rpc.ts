/** The database operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import { CLUSTER_OBJECT } from "../../durable-objects/db-cluster/object.ts";
import type { Env } from "../../shared/env.ts";
import type { Result } from "../../shared/errors.ts";
import {
  type ClusterStatus,
  type FailoverRecord,
  FailoverRequest,
  type FailoverResult,
  type RestorePoint,
  RestorePointRequest,
} from "../../shared/schemas/db.ts";
import { parseInput } from "../http/validation.ts";

/**
 * `(await env.SWITCHYARD.db()).status()` from a Worker with a service binding: the same results as
 * the `/v1/db` routes, failures as `{ ok: false, error }`.
 */
export class DbRpc extends RpcTarget {
  readonly #env: Env;

  constructor(env: Env) {
    super();
    this.#env = env;
  }

  /** As `GET /v1/db/status`. */
  status(): Promise<Result<ClusterStatus>> {
    return this.#cluster().status();
  }

  /** As `POST /v1/db/failover`. */
  async failover(input: unknown): Promise<Result<FailoverResult>> {
    const parsed = parseInput(FailoverRequest, input, "json");
    return parsed.ok ? this.#cluster().failover(parsed.value) : parsed;
  }

  /** As `GET /v1/db/failovers`. */
  failovers(): Promise<Result<{ failovers: FailoverRecord[] }>> {
    return this.#cluster().failovers();
  }

  /** As `POST /v1/db/restore-points`. */
  async createRestorePoint(input: unknown): Promise<Result<RestorePoint>> {
    const parsed = parseInput(RestorePointRequest, input, "json");
    return parsed.ok ? this.#cluster().createRestorePoint(parsed.value.name) : parsed;
  }

  /** As `GET /v1/db/restore-points`. */
  restorePoints(): Promise<Result<{ restorePoints: RestorePoint[] }>> {
    return this.#cluster().restorePoints();
  }

  #cluster() {
    return this.#env.DB_CLUSTER.getByName(CLUSTER_OBJECT);
  }
}
