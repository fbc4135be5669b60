/**
 * `/v1/db`: every Postgres cluster operation, declared once (see workers/declare/table.ts). A
 * database that is down answers 503 `unavailable`.
 */
import { CLUSTER_OBJECT } from "../../durable-objects/db-cluster/object.ts";
import type { Env } from "../../shared/env.ts";
import { errorResponse, jsonResponse } from "../../shared/schemas/common.ts";
import {
  ClusterStatus,
  FailoverList,
  FailoverRequest,
  FailoverResult,
  RestorePoint,
  RestorePointList,
  RestorePointRequest,
} from "../../shared/schemas/db.ts";
import { declareFor } from "../declare/declare-for.ts";
import { dbConfig } from "./config.ts";

const db = declareFor({
  capability: "db",
  tags: ["Postgres HA"],
  errors: { 503: errorResponse("`unavailable`: no cluster configured, or the database is down") },
});
const cluster = (env: Env) => env.DB_CLUSTER.getByName(CLUSTER_OBJECT);

/** The database operations: routes at `/v1/db`, methods of `env.SWITCHYARD.db()`. */
export const dbOperations = {
  status: db.read("getDbStatus", "GET /status", {
    summary: "Every node's role, health and lag, and the backup check",
    description: `Checked every \`checkIntervalMs\` (${dbConfig?.ha.checkIntervalMs ?? 5000} ms here) by the cluster object.`,
    responses: { 200: jsonResponse(ClusterStatus, "The cluster") },
    call: (env) => cluster(env).status(),
  }),

  failover: db.admin("failoverDb", "POST /failover", {
    summary: "Switch over to the best or the named replica",
    description:
      "With the primary up: fences it (read-only), waits until the target has replayed its last WAL, promotes the target. With the primary down: promotes the target at once. The old primary is fenced either way.",
    body: FailoverRequest,
    responses: {
      200: jsonResponse(FailoverResult, "Switched over"),
      404: errorResponse("`not_found`: no node named `target`"),
      409: errorResponse("`conflict`: the target is the primary, or no replica qualifies"),
      503: errorResponse(
        "`unavailable`: no cluster configured, the database is down, the target did not catch up in time, or its promotion failed (`details.node`; the primary stays the primary, `failedPromotion` in the status says why)",
      ),
    },
    call: (env, { body }) => cluster(env).failover(body),
  }),

  failovers: db.read("listFailovers", "GET /failovers", {
    summary: "Failover history, oldest first",
    responses: { 200: jsonResponse(FailoverList, "The history") },
    call: (env) => cluster(env).failovers(),
  }),

  createRestorePoint: db.admin("createRestorePoint", "POST /restore-points", {
    summary: "Create a named restore point on the primary",
    body: RestorePointRequest,
    responses: {
      201: jsonResponse(RestorePoint, "Created"),
      409: errorResponse("`conflict`: a restore point has this name already"),
    },
    call: (env, { body }) => cluster(env).createRestorePoint(body.name),
  }),

  restorePoints: db.read("listRestorePoints", "GET /restore-points", {
    summary: "Restore points, oldest first",
    responses: { 200: jsonResponse(RestorePointList, "The restore points") },
    call: (env) => cluster(env).restorePoints(),
  }),
};
