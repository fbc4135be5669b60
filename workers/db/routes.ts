/** `/v1/db`: thin HTTP over the cluster object. A database that is down answers 503 `unavailable`. */
import { CLUSTER_OBJECT } from "../../durable-objects/db-cluster.ts";
import type { Env } from "../../shared/env.ts";
import { unwrap } from "../../shared/errors.ts";
import { commonErrors, errorResponse, jsonBody, jsonResponse } from "../../shared/schemas/common.ts";
import {
  ClusterStatus,
  FailoverList,
  FailoverRequest,
  FailoverResult,
  RestorePoint,
  RestorePointList,
  RestorePointRequest,
} from "../../shared/schemas/db.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";
import { dbConfig } from "./config.ts";

const tags = ["Postgres HA"];
const unavailable = { 503: errorResponse("`unavailable`: no cluster configured, or the database is down") };
const cluster = (env: Env) => env.DB_CLUSTER.getByName(CLUSTER_OBJECT);

const status = operation(
  { capability: "db", action: "read" },
  {
    operationId: "getDbStatus",
    method: "get",
    path: "/status",
    tags,
    summary: "Every node's role, health and lag, and the backup check",
    description: `Checked every \`checkIntervalMs\` (${dbConfig?.ha.checkIntervalMs ?? 5000} ms here) by the cluster object.`,
    responses: { 200: jsonResponse(ClusterStatus, "The cluster"), ...commonErrors, ...unavailable },
  },
);

const failover = operation(
  { capability: "db", action: "admin" },
  {
    operationId: "failoverDb",
    method: "post",
    path: "/failover",
    tags,
    summary: "Switch over to the best or the named replica",
    description:
      "With the primary up: fences it (read-only), waits until the target has replayed its last WAL, promotes the target. With the primary down: promotes the target at once. The old primary is fenced either way.",
    request: { body: jsonBody(FailoverRequest) },
    responses: {
      200: jsonResponse(FailoverResult, "Switched over"),
      404: errorResponse("`not_found`: no node named `target`"),
      409: errorResponse("`conflict`: the target is the primary, or no replica qualifies"),
      ...commonErrors,
      503: errorResponse(
        "`unavailable`: no cluster configured, the database is down, the target did not catch up in time, or its promotion failed (`details.node`; the primary stays the primary, `failedPromotion` in the status says why)",
      ),
    },
  },
);

const failovers = operation(
  { capability: "db", action: "read" },
  {
    operationId: "listFailovers",
    method: "get",
    path: "/failovers",
    tags,
    summary: "Failover history, oldest first",
    responses: { 200: jsonResponse(FailoverList, "The history"), ...commonErrors, ...unavailable },
  },
);

const createPoint = operation(
  { capability: "db", action: "admin" },
  {
    operationId: "createRestorePoint",
    method: "post",
    path: "/restore-points",
    tags,
    summary: "Create a named restore point on the primary",
    request: { body: jsonBody(RestorePointRequest) },
    responses: {
      201: jsonResponse(RestorePoint, "Created"),
      409: errorResponse("`conflict`: a restore point has this name already"),
      ...commonErrors,
      ...unavailable,
    },
  },
);

const listPoints = operation(
  { capability: "db", action: "read" },
  {
    operationId: "listRestorePoints",
    method: "get",
    path: "/restore-points",
    tags,
    summary: "Restore points, oldest first",
    responses: { 200: jsonResponse(RestorePointList, "The restore points"), ...commonErrors, ...unavailable },
  },
);

/** The database routes, mounted at `/v1/db`. */
export const dbRoutes = createRouter()
  .openapi(status, async (c) => c.json(unwrap(await cluster(c.env).status()), 200))
  .openapi(failover, async (c) => c.json(unwrap(await cluster(c.env).failover(c.req.valid("json"))), 200))
  .openapi(failovers, async (c) => c.json(unwrap(await cluster(c.env).failovers()), 200))
  .openapi(createPoint, async (c) =>
    c.json(unwrap(await cluster(c.env).createRestorePoint(c.req.valid("json").name)), 201),
  )
  .openapi(listPoints, async (c) => c.json(unwrap(await cluster(c.env).restorePoints()), 200));
