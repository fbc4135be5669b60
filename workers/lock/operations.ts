/** `/v1/locks/{name}`: every lock operation, declared once (see workers/declare/table.ts). */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonResponse,
  NameParam,
} from "../../shared/schemas/common.ts";
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
import { type CallContext, declare } from "../declare/table.ts";

const params = z.object({ name: NameParam("Lock name") });
const tags = ["Locks"];
const lockObject = (env: Env, name: string) => env.LOCKS.getByName(name);
const notHolder = { 409: errorResponse("`not_holder`: not the live grant") };

/**
 * Acquires; a waiter whose HTTP client goes away leaves the queue at once (issue 17): the runtime
 * aborts the request's signal (compatibility flag enable_request_signal) but not the object's call.
 */
async function acquire(env: Env, name: string, input: AcquireInput, { signal, waitUntil }: CallContext) {
  const lock = lockObject(env, name);
  if (input.waitMs === 0 || !signal || !waitUntil) return lock.acquire(input);
  const ticket = crypto.randomUUID();
  const leave = () => waitUntil(lock.abandon(ticket));
  signal.addEventListener("abort", leave, { once: true });
  try {
    return await lock.acquire(input, ticket);
  } finally {
    signal.removeEventListener("abort", leave);
  }
}

/** The lock operations: routes at `/v1/locks`, methods of `env.SWITCHYARD.locks()`. */
export const lockOperations = {
  acquire: declare({
    access: { capability: "locks", action: "write", catalog: true },
    route: {
      operationId: "acquireLock",
      method: "post",
      path: "/{name}/acquire",
      tags,
      summary: "Acquire a lock or a semaphore permit",
      description:
        "Grants at once, renews the caller's own grant (same token), or waits up to `waitMs` for a permit, first come first served.",
      request: { params, body: jsonBody(AcquireRequest) },
      responses: {
        200: jsonResponse(Grant, "Granted"),
        409: errorResponse("`lock_held` (with `details.retryAfterMs`) or `conflict` (different `permits`)"),
        ...commonErrors,
      },
    },
    rpc: ["name", "body"],
    call: (env, { params, body }, context) => acquire(env, params.name, body, context),
  }),

  release: declare({
    access: { capability: "locks", action: "write" },
    route: {
      operationId: "releaseLock",
      method: "post",
      path: "/{name}/release",
      tags,
      summary: "Release a grant",
      request: { params, body: jsonBody(ReleaseRequest) },
      responses: {
        200: jsonResponse(Released, "Released"),
        ...notHolder,
        ...commonErrors,
      },
    },
    rpc: ["name", "body"],
    call: (env, { params, body }) => lockObject(env, params.name).release(body),
  }),

  extend: declare({
    access: { capability: "locks", action: "write" },
    route: {
      operationId: "extendLock",
      method: "post",
      path: "/{name}/extend",
      tags,
      summary: "Extend a grant's expiry to now + ttlMs",
      request: { params, body: jsonBody(ExtendRequest) },
      responses: {
        200: jsonResponse(Extended, "Extended"),
        ...notHolder,
        ...commonErrors,
      },
    },
    rpc: ["name", "body"],
    call: (env, { params, body }) => lockObject(env, params.name).extend(body),
  }),

  info: declare({
    access: { capability: "locks", action: "read" },
    route: {
      operationId: "getLock",
      method: "get",
      path: "/{name}",
      tags,
      summary: "Holders and waiters of a lock",
      request: { params },
      responses: { 200: jsonResponse(LockInfo, "The lock"), ...commonErrors },
    },
    rpc: ["name"],
    call: async (env, { params }) => ok(await lockObject(env, params.name).info()),
  }),
};
