/** Request and response schemas of `/v1/mirrors/state/{namespace}`. */
import { z } from "@hono/zod-openapi";

/** Longest key prefix a mirror may use in Redis. */
export const MAX_MIRROR_PREFIX = 256;

export const MirrorRequest = z
  .strictObject({
    redis: z
      .strictObject({
        prefix: z.string().max(MAX_MIRROR_PREFIX).openapi({
          example: "sessions:",
          description: "Each key `k` is written to the Redis key `<prefix>k`",
        }),
      })
      .openapi({ description: "Where in Redis" }),
  })
  .openapi("MirrorRequest");

export const MirrorStatus = z
  .object({
    namespace: z.string(),
    redis: z.object({ prefix: z.string() }),
    namespaceVersion: z.number().int().openapi({ description: "The namespace's version counter" }),
    mirroredVersion: z.number().int().openapi({
      description: "Every change up to this version (and the initial copy) has reached Redis",
    }),
    lastError: z.string().optional().openapi({ description: "The last failed attempt to reach Redis" }),
    lastErrorAt: z.number().int().optional(),
  })
  .openapi("MirrorStatus");

export const MirrorDeleted = z.object({ deleted: z.literal(true) }).openapi("MirrorDeleted");

export type MirrorStatus = z.infer<typeof MirrorStatus>;
