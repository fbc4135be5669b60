/**
 * A capability's HTTP routes from its operation table: each operation becomes `operation(access,
 * route)` (OpenAPI, guard, validators) with one handler that calls the object with the validated
 * request and answers the value as JSON with the route's success status, or the failure as the
 * contract's error (`backpressure` with its `Retry-After`).
 */
import type { Hook, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, type Result, unwrap } from "../../shared/errors.ts";
import { executionCtx, operation, requireOthers, withinRateLimit } from "../http/operation.ts";
import { type AppEnv, createRouter } from "../http/router.ts";
import { invalidRequest } from "../http/validation.ts";
import type { AnyDeclared, CallContext, CallInput, DeclaredRoute, OperationTable } from "./table.ts";

/**
 * Like {@link unwrap}, but a `backpressure` failure carries its `Retry-After` header, as the
 * contract asks.
 */
export function unwrapForHttp<T>(result: Result<T>): T {
  if (!result.ok && result.error.code === "backpressure") {
    const seconds = Number(result.error.details?.retryAfterSeconds ?? 1);
    throw new ApiError(result.error.code, result.error.message, result.error.details, {
      "Retry-After": String(seconds),
    });
  }
  return unwrap(result);
}

/** The route's success status: its first 2xx response. */
function successStatus(route: DeclaredRoute): number {
  return Number(Object.keys(route.responses).find((status) => status.startsWith("2")) ?? 200);
}

/** What HTTP adds to a call: the principal, the request's abort signal, the background. */
export function httpContext(c: Context<AppEnv>): CallContext {
  const ctx = executionCtx(c);
  return {
    signal: c.req.raw.signal,
    principal: c.get("principal"),
    ...(ctx ? { waitUntil: (work: Promise<unknown>) => ctx.waitUntil(work) } : {}),
  };
}

/** The request's parts; the route's validators ran before the handler, a part it lacks is undefined. */
function validInput(c: Context<AppEnv>): CallInput {
  const valid = c.req.valid.bind(c.req) as (target: string) => unknown;
  return { params: valid("param"), body: valid("json"), query: valid("query"), headers: valid("header") };
}

function handlerOf(declared: AnyDeclared) {
  // An upgrade route takes the rate limit itself, once the request is an upgrade (admitSocket).
  if ("upgrade" in declared) return (c: Context<AppEnv>) => declared.upgrade(c, validInput(c) as never);
  const status = successStatus(declared.route);
  return async (c: Context<AppEnv>) => {
    const input = validInput(c);
    if (declared.otherNames)
      requireOthers(c.get("principal"), declared.access, declared.otherNames(input.body));
    const unconfigured = declared.configured?.(c.env, input as never);
    if (unconfigured) throw new ApiError(unconfigured.code, unconfigured.message, unconfigured.details);
    await withinRateLimit(c);
    const value = unwrapForHttp(await declared.call(c.env, input as never, httpContext(c))) as never;
    if (declared.jsonText) {
      // Handed on as is, not parsed and serialised again (the route's schema still describes it).
      const { text, status: picked } = declared.jsonText(value);
      return c.body(text, (picked ?? status) as 200, { "content-type": "application/json" });
    }
    const body = declared.json ? declared.json(value) : value;
    return c.json(body, status as 200, declared.responseHeaders?.(value));
  };
}

/**
 * The validation hook of an operation whose body schema is a union: a failed body is validated
 * again by the branch it means (`bodySchemaFor`), whose error names the field; else the router's.
 */
function hookOf(declared: AnyDeclared): Hook<unknown, AppEnv, string, undefined> | undefined {
  const schemaFor = "bodySchemaFor" in declared ? declared.bodySchemaFor : undefined;
  if (!schemaFor) return undefined;
  return (result) => {
    if (result.success) return undefined;
    // The union's own error says only "invalid input": validate the branch the body means.
    const body = (result as { data?: unknown }).data;
    const branch = result.target === "json" ? schemaFor(body).safeParse(body) : result;
    throw invalidRequest(branch.success ? result.error : branch.error, result.target);
  };
}

/**
 * Adds every operation of `table` to `router` (a new one by default), in the table's order:
 * the order in which Hono matches them.
 * @example export const lockRoutes = routesOf(lockOperations);
 */
export function routesOf(
  table: OperationTable,
  router: OpenAPIHono<AppEnv> = createRouter(),
): OpenAPIHono<AppEnv> {
  for (const declared of Object.values(table)) {
    router.openapi(
      operation(declared.access, declared.route),
      handlerOf(declared) as never,
      hookOf(declared),
    );
  }
  return router;
}
