/** `/v1/locks/{name}`: every lock operation, declared once (see workers/declare/table.ts). */
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import { errorResponse, jsonResponse, NameParam } from "../../shared/schemas/common.ts";
import {
  type AcquireInput,
  AcquireRequest,
  Extended,
  ExtendRequest,
  Grant,
  LockInfo,
  Released,
  ReleaseRequest,
} from "../../shared/schemas/lock.ts";
import { declareFor } from "../declare/declare-for.ts";
import { leavingOnAbort } from "../declare/leaving-on-abort.ts";
import type { CallContext } from "../declare/table.ts";

const locks = declareFor({ capability: "locks", tags: ["Locks"], params: { name: NameParam("Lock name") } });
const lockObject = (env: Env, name: string) => env.LOCKS.getByName(name);
const notHolder = { 409: errorResponse("`not_holder`: not the live grant") };

/** Acquires; a waiter whose HTTP client goes away leaves the queue at once (issue 17). */
function acquire(env: Env, name: string, input: AcquireInput, context: CallContext) {
  const lock = lockObject(env, name);
  if (input.waitMs === 0) return lock.acquire(input);
  return leavingOnAbort(
    context,
    (ticket) => lock.acquire(input, ticket),
    (ticket) => lock.abandon(ticket),
  );
}

/** The lock operations: routes at `/v1/locks`, methods of `env.SWITCHYARD.locks()`. */
export const lockOperations = {
  acquire: locks.write("acquireLock", "POST /{name}/acquire", {
    catalog: true,
    summary: "Acquire a lock or a semaphore permit",
    idempotent: true,
    description:
      "Grants at once, renews the caller's own grant (same token), or waits up to `waitMs` for a permit, first come first served.",
    body: AcquireRequest,
    responses: {
      200: jsonResponse(Grant, "Granted"),
      409: errorResponse("`lock_held` (with `details.retryAfterMs`) or `conflict` (different `permits`)"),
    },
    call: (env, { params, body }, context) => acquire(env, params.name, body, context),
  }),

  release: locks.write("releaseLock", "POST /{name}/release", {
    summary: "Release a grant",
    idempotent: true,
    body: ReleaseRequest,
    responses: { 200: jsonResponse(Released, "Released"), ...notHolder },
    call: (env, { params, body }) => lockObject(env, params.name).release(body),
  }),

  extend: locks.write("extendLock", "POST /{name}/extend", {
    summary: "Extend a grant's expiry to now + ttlMs",
    idempotent: true,
    body: ExtendRequest,
    responses: { 200: jsonResponse(Extended, "Extended"), ...notHolder },
    call: (env, { params, body }) => lockObject(env, params.name).extend(body),
  }),

  info: locks.read("getLock", "GET /{name}", {
    summary: "Holders and waiters of a lock",
    responses: { 200: jsonResponse(LockInfo, "The lock") },
    call: async (env, { params }) => ok(await lockObject(env, params.name).info()),
  }),
};
