/** Request and response schemas of `/v1/db`. */
import { z } from "@hono/zod-openapi";
import { NAME_PATTERN } from "./common.ts";

const NodeName = z
  .string()
  .regex(NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
  .openapi({ example: "pg-2" });

export const NodeStatus = z
  .object({
    name: z.string(),
    region: z.string(),
    role: z.enum(["primary", "replica"]),
    healthy: z.boolean(),
    lagMs: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Replica: replay lag in time (0 when caught up)" }),
    lagBytes: z.number().int().optional().openapi({ description: "Replica: WAL bytes behind the primary" }),
    checkedAt: z.number().int().openapi({ description: "Last check (epoch ms; 0: never)" }),
    streaming: z.boolean().optional().openapi({ description: "Replica: receiving WAL right now" }),
    fenced: z
      .boolean()
      .openapi({ description: "A former primary: never routed to until rebuilt as a replica" }),
    stale: z.boolean().openapi({ description: "A fenced former primary that is up again: needs rejoining" }),
    needsRebuild: z.boolean().openapi({
      description:
        "A former primary after a failover, or a replica that replayed past the new primary's fork: listed as a replica, never routed to until rebuilt",
    }),
    failures: z.number().int().openapi({ description: "Consecutive failed checks" }),
    error: z.string().optional().openapi({ description: "Why the last check failed" }),
  })
  .openapi("DbNode");

export const BackupStatus = z
  .object({
    archiving: z.boolean().openapi({ description: "archive_mode is on" }),
    healthy: z.boolean().openapi({ description: "Archiving is on and the last attempt succeeded" }),
    archivedCount: z.number().int(),
    lastArchivedWal: z.string().nullable(),
    lastArchivedAt: z.number().int().nullable(),
    failedCount: z.number().int(),
    lastFailedAt: z.number().int().nullable(),
    failuresSinceLastArchive: z.number().int(),
    checkedAt: z.number().int(),
  })
  .openapi("DbBackupStatus");

/** When a promotion was tried, why, and whether the monitor tried it rather than an operator. */
const attemptFields = { at: z.number().int(), reason: z.string(), automatic: z.boolean() };

export const FailedPromotion = z
  .object({
    from: z.string().openapi({ description: "The primary, which stayed the primary" }),
    to: z.string().openapi({ description: "The node that was not promoted" }),
    ...attemptFields,
    error: z.string().openapi({ example: "refused (server error 42501)" }),
  })
  .openapi("DbFailedPromotion");

export const ClusterStatus = z
  .object({
    primary: z.string().openapi({ description: "The node writes go to" }),
    epoch: z.number().int().openapi({ description: "Grows with every failover" }),
    nodes: z.array(NodeStatus),
    backup: BackupStatus.nullable().openapi({
      description: "From the primary's pg_stat_archiver; null until seen",
    }),
    failedPromotion: FailedPromotion.nullable().openapi({
      description: "The last switchover or failover whose promotion failed, since one last succeeded",
    }),
  })
  .openapi("DbStatus");

export const FailoverRequest = z
  .strictObject({
    target: NodeName.optional().openapi({ description: "Replica to promote; default: the best one" }),
    reason: z.string().min(1).max(512).openapi({ example: "maintenance of pg-1" }),
  })
  .openapi("DbFailoverRequest");

export const FailoverResult = z
  .object({ from: z.string(), to: z.string(), at: z.number().int() })
  .openapi("DbFailoverResult");

export const FailoverRecord = z
  .object({ from: z.string(), to: z.string(), ...attemptFields })
  .openapi("DbFailover");

export const FailoverList = z.object({ failovers: z.array(FailoverRecord) }).openapi("DbFailovers");

export const RestorePointRequest = z
  .strictObject({
    name: z
      .string()
      // Postgres keeps restore point names under 64 bytes.
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$")
      .openapi({ example: "before-migration-42" }),
  })
  .openapi("DbRestorePointRequest");

export const RestorePoint = z
  .object({
    name: z.string(),
    lsn: z.string().openapi({ example: "0/3000060" }),
    createdAt: z.number().int(),
    node: z.string().openapi({ description: "The primary it was created on" }),
  })
  .openapi("DbRestorePoint");

export const RestorePointList = z.object({ restorePoints: z.array(RestorePoint) }).openapi("DbRestorePoints");

export type ClusterStatus = z.infer<typeof ClusterStatus>;
export type FailoverInput = z.infer<typeof FailoverRequest>;
export type FailoverResult = z.infer<typeof FailoverResult>;
export type FailoverRecord = z.infer<typeof FailoverRecord>;
export type RestorePoint = z.infer<typeof RestorePoint>;
