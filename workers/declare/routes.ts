/**
 * A capability's HTTP routes from its operation table: each operation becomes `operation(access,
 * route)` (OpenAPI, guard, validators) with one handler that calls the object with the validated
 * request and answers the value as JSON with the route's success status, or the failure as the
 * contract's error (`backpressure` with its `Retry-After`).
 */
import type { Hook, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, type ErrorInfo, type Result, unwrap } from "../../shared/errors.ts";
import { executionCtx, hasRateLimit, operation, requireOthers, withinRateLimit } from "../http/operation.ts";
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
    // The object checks sizes itself; asked here only where a check of the Worker's (the
    // configuration, the token's rate limit) would otherwise answer before that 413.
    if (declared.configured || hasRateLimit(c.get("principal"))) refuse(declared.oversized?.(input.body));
    refuse(declared.configured?.(c.env, input as never));
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

/** Throws a failure an operation's own check found (a value over its limit, a missing setting). */
function refuse(error: ErrorInfo | undefined): void {
  if (error) throw new ApiError(error.code, error.message, error.details);
}

/**
 * The validation hook of an operation whose body may hold a value over its size limit: that `413`
 * comes before a `400` of the body, query or headers, as the contract orders them. Of one whose
 * body schema is a union: a failed body is validated again by the branch it means
 * (`bodySchemaFor`), whose error names the field. Else the router's.
 */
function hookOf(declared: AnyDeclared): Hook<unknown, AppEnv, string, undefined> | undefined {
  if ("upgrade" in declared || (!declared.bodySchemaFor && !declared.oversized)) return undefined;
  const { bodySchemaFor: schemaFor, oversized } = declared;
  return (result, c) => {
    if (result.success) return undefined;
    const given = (result as { data?: unknown }).data;
    // The path's names and ids come first, then sizes, then the other parts' faults.
    if (oversized && result.target !== "param") {
      refuse(oversized(result.target === "json" ? given : c.get("jsonBody")));
    }
    // The union's own error says only "invalid input": validate the branch the body means.
    const branch = schemaFor && result.target === "json" ? schemaFor(given).safeParse(given) : result;
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
