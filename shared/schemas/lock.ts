/** Request and response schemas of `/v1/locks/{name}`. */
import { z } from "@hono/zod-openapi";
import { int } from "./common.ts";

const Owner = z.string().min(1).max(256).openapi({ example: "worker-7", description: "Who holds the grant" });
const Token = z
  .number()
  .int()
  .min(1)
  .openapi({ example: 42, description: "Fencing token: strictly increases per lock name" });

export const AcquireRequest = z
  .strictObject({
    owner: Owner,
    ttlMs: int(100, 3_600_000).default(30_000),
    waitMs: int(0, 60_000).default(0),
    permits: int(1, 1000).default(1),
  })
  .openapi("AcquireRequest");

export const ReleaseRequest = z.strictObject({ owner: Owner, token: Token }).openapi("ReleaseRequest");

export const ExtendRequest = z
  .strictObject({ owner: Owner, token: Token, ttlMs: int(100, 3_600_000) })
  .openapi("LockExtendRequest");

export const Grant = z
  .object({ name: z.string(), owner: z.string(), token: Token, expiresAt: z.number().int() })
  .openapi("LockGrant");

export const Holder = z
  .object({ owner: z.string(), token: Token, expiresAt: z.number().int() })
  .openapi("LockHolder");

export const LockInfo = z
  .object({
    name: z.string(),
    permits: z.number().int(),
    holders: z.array(Holder),
    waiters: z.number().int(),
  })
  .openapi("LockInfo");

export const Released = z.object({ released: z.literal(true) }).openapi("LockReleased");
export const Extended = z.object({ expiresAt: z.number().int() }).openapi("LockExtended");

export type AcquireInput = z.infer<typeof AcquireRequest>;
export type ReleaseInput = z.infer<typeof ReleaseRequest>;
export type ExtendInput = z.infer<typeof ExtendRequest>;
export type LockGrant = z.infer<typeof Grant>;
export type LockHolder = z.infer<typeof Holder>;
export type LockInfo = z.infer<typeof LockInfo>;
