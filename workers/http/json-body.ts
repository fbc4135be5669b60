/**
 * Reads a request body once, before validation: over 1 MiB → 413, not JSON → 415, malformed →
 * 400. An empty body reads as `{}`, so routes whose fields all have defaults accept no body.
 */
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";
import { MAX_REQUEST_BYTES } from "../../shared/schemas/common.ts";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `request body is over ${MAX_REQUEST_BYTES} bytes`, {
    limit: MAX_REQUEST_BYTES,
  });
}

export function jsonBody(): MiddlewareHandler {
  return async function jsonBodyMiddleware(c, next) {
    if (!BODY_METHODS.has(c.req.method)) return next();
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_REQUEST_BYTES) throw tooLarge();
    const bytes = await c.req.raw.arrayBuffer();
    if (bytes.byteLength > MAX_REQUEST_BYTES) throw tooLarge();
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
    // Empty: "{}" for a JSON request, which the validator then parses; "" for one without a type,
    // which the validator reads as {} and which must not count as a body of the wrong type.
    let text = JSON_MEDIA_TYPE.test(mediaType) ? "{}" : "";
    if (bytes.byteLength > 0) {
      if (!JSON_MEDIA_TYPE.test(mediaType)) {
        throw new ApiError(
          "unsupported_media_type",
          "the body must be JSON (content-type: application/json)",
        );
      }
      text = new TextDecoder().decode(bytes);
      try {
        JSON.parse(text);
      } catch {
        throw new ApiError("invalid_request", "the body is not valid JSON", { field: "body" });
      }
    }
    // Hono's validators read the body through this cache.
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    await next();
  };
}
