/** `/v1/locks/{name}`: thin HTTP over the lock object. */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { unwrap } from "../../shared/errors.ts";
import {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonResponse,
  NameParam,
} from "../../shared/schemas/common.ts";
import {
  AcquireRequest,
  Extended,
  ExtendRequest,
  Grant,
  LockInfo,
  Released,
  ReleaseRequest,
} from "../../shared/schemas/lock.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";

const params = z.object({ name: NameParam("Lock name") });
const tags = ["Locks"];
const lockObject = (env: Env, name: string) => env.LOCKS.getByName(name);

const acquire = operation(
  { capability: "locks", action: "write", catalog: true },
  {
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
);

const release = operation(
  { capability: "locks", action: "write" },
  {
    operationId: "releaseLock",
    method: "post",
    path: "/{name}/release",
    tags,
    summary: "Release a grant",
    request: { params, body: jsonBody(ReleaseRequest) },
    responses: {
      200: jsonResponse(Released, "Released"),
      409: errorResponse("`not_holder`: not the live grant"),
      ...commonErrors,
    },
  },
);

const extend = operation(
  { capability: "locks", action: "write" },
  {
    operationId: "extendLock",
    method: "post",
    path: "/{name}/extend",
    tags,
    summary: "Extend a grant's expiry to now + ttlMs",
    request: { params, body: jsonBody(ExtendRequest) },
    responses: {
      200: jsonResponse(Extended, "Extended"),
      409: errorResponse("`not_holder`: not the live grant"),
      ...commonErrors,
    },
  },
);

const info = operation(
  { capability: "locks", action: "read" },
  {
    operationId: "getLock",
    method: "get",
    path: "/{name}",
    tags,
    summary: "Holders and waiters of a lock",
    request: { params },
    responses: { 200: jsonResponse(LockInfo, "The lock"), ...commonErrors },
  },
);

/** The lock routes, mounted at `/v1/locks`. */
export const lockRoutes = createRouter()
  .openapi(acquire, async (c) => {
    const { name } = c.req.valid("param");
    const input = c.req.valid("json");
    const lock = lockObject(c.env, name);
    if (input.waitMs === 0) return c.json(unwrap(await lock.acquire(input)), 200);
    // A waiter whose client goes away leaves the queue at once (issue 17): the runtime aborts the
    // request's signal (compatibility flag enable_request_signal) but not the object's call.
    const ticket = crypto.randomUUID();
    const signal = c.req.raw.signal;
    const leave = () => c.executionCtx.waitUntil(lock.abandon(ticket));
    signal.addEventListener("abort", leave, { once: true });
    try {
      return c.json(unwrap(await lock.acquire(input, ticket)), 200);
    } finally {
      signal.removeEventListener("abort", leave);
    }
  })
  .openapi(release, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(unwrap(await lockObject(c.env, name).release(c.req.valid("json"))), 200);
  })
  .openapi(extend, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(unwrap(await lockObject(c.env, name).extend(c.req.valid("json"))), 200);
  })
  .openapi(info, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await lockObject(c.env, name).info(), 200);
  });
