/**
 * Browsers: a request from a page on another site is refused before its token is looked at
 * (a page must not use a token it happens to know); origins listed in `ALLOWED_ORIGINS` get CORS.
 * Requests without `Origin` (servers, curl, service bindings) are not affected.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../../shared/env.ts";
import { ApiError } from "../../shared/errors.ts";

const listedCache = new Map<string, ReadonlySet<string>>();

function listedOrigins(env: Env): ReadonlySet<string> {
  const raw = env.ALLOWED_ORIGINS ?? "";
  let listed = listedCache.get(raw);
  if (!listed) {
    listed = new Set(
      raw
        .split(",")
        .map((o) => o.trim().replace(/\/+$/, ""))
        .filter((o) => o.length > 0),
    );
    listedCache.set(raw, listed);
  }
  return listed;
}

/** Whether an `Origin` may call: none, the Worker's own, or a listed one. */
export function originAllowed(env: Env, requestUrl: string, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  if (origin === new URL(requestUrl).origin) return true;
  return listedOrigins(env).has(origin);
}

/** `403 forbidden` for a foreign `Origin`. */
export function checkOrigin(env: Env, requestUrl: string, origin: string | undefined): void {
  if (!originAllowed(env, requestUrl, origin)) {
    throw new ApiError("forbidden", "requests from this origin are not allowed (see ALLOWED_ORIGINS)", {
      origin,
    });
  }
}

const ALLOW_HEADERS = "authorization, content-type, if-match, if-none-match";
const EXPOSE_HEADERS = "etag, retry-after, www-authenticate";

/**
 * CORS for listed origins on every `/v1` route: preflights answered here, and the response
 * headers added to every answer (errors included) of a request from a listed origin.
 */
export function cors(): MiddlewareHandler<{ Bindings: Env }> {
  return async function corsMiddleware(c, next) {
    const origin = c.req.header("origin");
    const listed = origin !== undefined && listedOrigins(c.env).has(origin);
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
      if (!listed) throw new ApiError("forbidden", "requests from this origin are not allowed", { origin });
      return new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Origin": origin,
          "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
          "Access-Control-Allow-Headers": ALLOW_HEADERS,
          "Access-Control-Max-Age": "600",
          Vary: "Origin",
        },
      });
    }
    await next();
    if (listed && c.res.status !== 101) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
      c.res.headers.append("Vary", "Origin");
    }
  };
}
