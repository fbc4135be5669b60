/** Turns schema failures into the contract's 400 `invalid_request`, naming the field. */
import type { z } from "@hono/zod-openapi";
import { ApiError, fail, ok, type Result } from "../../shared/errors.ts";
import { MAX_JSON_DEPTH } from "../../shared/schemas/common.ts";
import { flawError, valueFlaw } from "./json-body.ts";

type Issue = z.core.$ZodIssue;

/** The dotted path of the field an issue is about; for unknown fields, the first unknown one. */
function fieldOf(issue: Issue, target: string): string {
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
  return path.length > 0 ? path.join(".") : target;
}

/**
 * The error for a schema failure in the request part `target` (json, param, query, header). A
 * failure of the whole body (an array where an object belongs) names `body`, as malformed JSON does.
 * `details.field` names the first unknown field when there is one, whatever else is wrong (the
 * contract's rule: a typo such as `ttl` for `ttlMs` also leaves `ttlMs` missing, and zod lists
 * unknown keys after the fields it checked); else the first issue's field. "First" is zod's
 * order: an object's own unknown keys come after those inside its fields.
 */
export function invalidRequest(error: z.ZodError, target: string): ApiError {
  const root = target === "json" ? "body" : target;
  const issues = error.issues.map((i) => ({
    field: fieldOf(i, root),
    message: i.code === "unrecognized_keys" ? "unknown field" : i.message,
  }));
  const unknown = error.issues.findIndex((i) => i.code === "unrecognized_keys");
  const lead = issues[Math.max(unknown, 0)] ?? { field: root, message: "invalid" };
  return new ApiError("invalid_request", `${lead.field}: ${lead.message}`, { field: lead.field, issues });
}

/**
 * Validates a value against a schema outside Hono (RPC calls), with the same error as HTTP. A
 * `json` value (an RPC body, which no body reader saw) is held to the same depth limit and finite
 * numbers first.
 * @example const input = parseInput(AcquireRequest, raw, "json");
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  target: string,
): Result<z.output<S>> {
  // A socket message is JSON its object may store (an ack's result), held to the body's rules.
  // Structured clone carries what JSON text cannot: nesting past the limit, Infinity and NaN.
  const flaw = target === "json" || target === "message" ? valueFlaw(value, MAX_JSON_DEPTH, "body") : null;
  if (flaw) {
    const unfit = flawError(flaw);
    return fail(unfit.code, unfit.message, unfit.details);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return ok(parsed.data);
  const err = invalidRequest(parsed.error, target);
  return fail(err.code, err.message, err.details);
}
