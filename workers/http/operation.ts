/**
 * One declaration per operation: its route (method, path, schemas, status codes), its
 * `operationId`, and the capability and action a token needs for it. `operation()` turns that
 * into a Hono OpenAPI route whose one middleware (`guard`) checks, in the contract's order:
 * the origin (403), the token (401), the names in the path (400), the scopes (403), then reads the
 * body (415, 413, 400); the route's own validators follow (a value over its size limit answering
 * 413 before their 400, see `oversized` in workers/declare/table.ts), and the handler takes from
 * the token's rate limit (429, {@link withinRateLimit}) just before the operation.
 */
import { createRoute, type RouteConfig, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";
import { NAME_PATTERN } from "../../shared/schemas/common.ts";
import { noteName } from "../catalog/note.ts";
import { enforceRateLimit } from "../tokens/rate-limit.ts";
import {
  type Action,
  allows,
  type Background,
  type Capability,
  type Principal,
  type RateLimit,
} from "./access.ts";
import { authenticateRequest, bearerToken } from "./auth.ts";
import { readJsonBody } from "./json-body.ts";
import { checkOrigin } from "./origin.ts";
import type { AppEnv } from "./router.ts";
import { invalidRequest } from "./validation.ts";

/** What a route needs: a scope's capability and action, or an admin token (`/v1/tokens`). */
export type Access =
  | {
      capability: Capability;
      action: Action;
      /** The route writes the name into existence: the catalog learns it on success. */
      catalog?: boolean;
      /** WebSocket upgrade routes (subscribe, consume) also take the token as `?token=`. */
      queryToken?: boolean;
    }
  | { adminOnly: true };

/** The path parameter that holds the resource name, per capability (`db` has none). */
export const NAME_PARAM: Record<Capability, string | undefined> = {
  locks: "name",
  breakers: "name",
  queues: "queue",
  topics: "topic",
  state: "namespace",
  db: undefined,
};

/** The OpenAPI security requirement every `/v1` route carries. */
export const bearerSecurity = [{ bearer: [] }];

function presentedToken(c: Context<AppEnv>, queryToken: boolean): string | undefined {
  const header = bearerToken(c.req.header("authorization"));
  if (header) return header;
  const isUpgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  return queryToken && isUpgrade ? c.req.query("token") : undefined;
}

function checkName(c: Context<AppEnv>, capability: Capability): string | undefined {
  const param = NAME_PARAM[capability];
  if (param === undefined) return undefined;
  const name = c.req.param(param);
  if (name === undefined) return undefined;
  if (!NAME_PATTERN.test(name)) {
    const hint = name.includes("/") ? " (names cannot contain `/`)" : "";
    throw new ApiError("invalid_request", `${param}: must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$${hint}`, {
      field: param,
    });
  }
  return name;
}

function forbidden(what: string, details?: Record<string, unknown>): ApiError {
  return new ApiError("forbidden", `this token's scopes do not allow ${what}`, details);
}

/**
 * The first two checks of every `/v1` request: the origin (403), then the token (401). Also for a
 * refusal that comes before the guard (a state key Hono cannot decode), so that it keeps the
 * contract's order.
 */
export async function identifyCaller(c: Context<AppEnv>, queryToken = false): Promise<Principal> {
  checkOrigin(c.env, c.req.url, c.req.header("origin"));
  return authenticateRequest(c.env, presentedToken(c, queryToken), executionCtx(c));
}

/**
 * The path's other parameters (a state key, a task id, a schedule's name) by the route's schema:
 * they are names in the path too, which the contract checks before the scopes.
 */
function checkPath(c: Context<AppEnv>, params: z.ZodType | undefined): void {
  const parsed = params?.safeParse(c.req.param());
  if (parsed && !parsed.success) throw invalidRequest(parsed.error, "param");
}

/**
 * The one middleware of every `/v1` route; see the module comment for its order. `params` is the
 * route's schema of its path parameters.
 */
export function guard(access: Access, params?: z.ZodType): MiddlewareHandler<AppEnv> {
  const queryToken = "adminOnly" in access ? false : (access.queryToken ?? false);
  return async function guardMiddleware(c, next) {
    const principal = await identifyCaller(c, queryToken);
    c.set("principal", principal);
    let noted: { capability: Capability; name: string } | undefined;
    if ("adminOnly" in access) {
      checkPath(c, params);
      if (principal.kind !== "admin") throw forbidden("this operation (it needs an admin token)");
    } else {
      const name = checkName(c, access.capability);
      checkPath(c, params);
      if (!allows(principal, access.capability, access.action, name)) {
        throw forbidden(`${access.action} on ${access.capability}${name === undefined ? "" : `:${name}`}`);
      }
      if (access.catalog && name !== undefined) noted = { capability: access.capability, name };
    }
    c.set("jsonBody", await readJsonBody(c));
    await next();
    if (noted && c.res.status < 300) noteName(c.env, executionCtx(c), noted.capability, noted.name);
  };
}

/**
 * Takes one request from a scoped token's rate limit, or throws `429 rate_limited`. Called once
 * the request is known to be valid: the contract counts the limit among the operation's own
 * failures, after the body and query, so a request refused for its body neither gets 429 nor
 * spends the token's allowance.
 */
export async function withinRateLimit(c: Context<AppEnv>): Promise<void> {
  const principal = c.get("principal");
  if (hasRateLimit(principal)) await enforceRateLimit(c.env, principal.id, principal.rateLimit);
}

/** Whether the caller is a scoped token with a rate limit. */
export function hasRateLimit(
  principal: Principal | undefined,
): principal is Extract<Principal, { kind: "scoped" }> & { rateLimit: RateLimit } {
  return principal?.kind === "scoped" && principal.rateLimit !== undefined;
}

/**
 * Checks the names a request reaches besides the one in its path (`otherNames` of its
 * declaration: a flow's child queues): the token needs the route's action on each.
 */
export function requireOthers(
  principal: Principal | undefined,
  access: Access,
  names: readonly string[],
): void {
  if (!principal || "adminOnly" in access) return;
  const { capability, action } = access;
  for (const name of names) {
    if (!allows(principal, capability, action, name)) {
      throw forbidden(`${action} on ${capability}:${name}`, { [NAME_PARAM[capability] ?? "name"]: name });
    }
  }
}

/** The execution context, where the runtime gives one (not in some unit tests of the app). */
export function executionCtx(c: Context<AppEnv>): Background | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/**
 * Declares an operation. The access travels into the OpenAPI document as `x-switchyard-access`
 * (`"queues:consume"`, or `"admin-token"`), where the table-driven auth test reads it.
 * @example operation({ capability: "locks", action: "write", catalog: true }, { operationId: "acquireLock", method: "post", path: "/{name}/acquire", ... })
 */
export function operation<R extends Omit<RouteConfig, "security" | "middleware"> & { operationId: string }>(
  access: Access,
  route: R,
) {
  const label = "adminOnly" in access ? "admin-token" : `${access.capability}:${access.action}`;
  return createRoute({
    ...route,
    security: bearerSecurity,
    middleware: [guard(access, route.request?.params as z.ZodType | undefined)] as const,
    "x-switchyard-access": label,
  });
}
