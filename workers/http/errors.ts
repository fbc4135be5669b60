/** The one place where anything thrown becomes a response in the contract's error shape. */
import type { Context, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, type ErrorCode } from "../../shared/errors.ts";

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

function respond(c: Context, err: ApiError): Response {
  return c.json(err.toBody(), err.status as ContentfulStatusCode, err.headers);
}

/** `app.onError`: known errors keep their status; anything else is logged and answered 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return respond(c, err);
  if (err instanceof HTTPException && CODE_BY_STATUS[err.status]) {
    return respond(c, new ApiError(CODE_BY_STATUS[err.status] as ErrorCode, err.message));
  }
  console.error("unhandled error", err);
  return respond(c, new ApiError("internal", "internal error"));
}

/** Converts a Hono route pattern (`/v1/locks/:name/acquire`, `:key{.+}`) into a RegExp. */
function patternToRegExp(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => {
      if (part === "*") return ".*";
      const param = /^:[^{]+(?:\{(.+)\})?$/.exec(part);
      if (param) return param[1] ? `(?:${param[1]})` : "[^/]+";
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}$`);
}

/**
 * `app.notFound`: 405 when the path exists under another method (with `Allow`), else 404.
 * Takes the app's route table so that it never drifts from the routes.
 */
export function notFound(routes: () => ReadonlyArray<{ method: string; path: string }>): NotFoundHandler {
  let table: Array<{ method: string; re: RegExp }> | undefined;
  return function notFoundHandler(c) {
    table ??= routes()
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ method: r.method, re: patternToRegExp(r.path) }));
    const allowed = [...new Set(table.filter((r) => r.re.test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0) {
      return respond(
        c,
        new ApiError(
          "method_not_allowed",
          `${c.req.method} is not allowed here`,
          { allowed },
          {
            Allow: allowed.join(", "),
          },
        ),
      );
    }
    return respond(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`));
  };
}
