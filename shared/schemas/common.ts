/**
 * Schemas shared by every route group: names, the error body, JSON size limits.
 * They validate requests, type handlers and generate the OpenAPI document.
 */
import { z } from "@hono/zod-openapi";

/**
 * What a caller sends for schema `S`: its input, except that a field the schema coerces (a query's
 * `limit`), which takes any input, takes the type it becomes. A union's branches each on their own.
 */
export type Sent<S extends z.ZodType> = SentFields<z.input<S>, z.output<S>>;
type SentFields<I, O> = I extends unknown
  ? { [K in keyof I]: unknown extends I[K] ? (K extends keyof O ? O[K] : I[K]) : I[K] }
  : never;

/** Name of a lock, namespace, queue or topic, as the contract allows. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Largest value, payload or event, in bytes of its JSON text. */
export const MAX_VALUE_BYTES = 256 * 1024;

/** Largest request body, in bytes. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Deepest nesting of arrays and objects a body (stored values included) may have. */
export const MAX_JSON_DEPTH = 64;

/** A path parameter holding a resource name. */
export const NameParam = (description: string) =>
  z
    .string()
    .regex(NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
    .openapi({ param: { name: "name", in: "path" }, description, example: "orders-42" });

/** A path parameter holding an id (a task's, a subscription's). */
export const PathId = (meta: { description?: string; example: string }) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, ...meta });

/** `?token=` on a WebSocket upgrade: the bearer token, for clients (browsers) that cannot set headers. */
export const TokenQuery = z
  .string()
  .optional()
  .openapi({ description: "The bearer token, for clients that cannot set headers" });

/** An integer within bounds, for `...Ms` durations and counts. */
export const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** A query parameter with nothing after `=` counts as absent: clients write a first page `?cursor=&limit=`. */
const absentIfEmpty = (value: unknown) => (value === "" ? undefined : value);

/**
 * A query parameter as a number when it is written in decimal digits (`0x10`, `1e1` and `1.0` stay
 * text, which the integer schema refuses, as in a body); a number given over RPC stays one.
 */
const wholeNumber = (value: unknown) =>
  typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;

const queryNumber = (min: number, max: number) =>
  z.preprocess((value) => wholeNumber(absentIfEmpty(value)), int(min, max).optional());

/** An integer query parameter from `min` to `max`; empty counts as absent. */
const queryInt = (min: number, max: number) =>
  queryNumber(min, max).optional().openapi({ type: "integer", minimum: min, maximum: max });

/** Where a WebSocket subscription replays from (`fromSeq`, `fromVersion`); absent: live changes only. */
export const replayFrom = (description: string) =>
  queryInt(0, Number.MAX_SAFE_INTEGER).openapi({ description });

/** {@link queryInt} with a default: absent or empty is `fallback`. */
export const queryIntOr = (min: number, max: number, fallback: number) =>
  queryNumber(min, max)
    .transform((value) => value ?? fallback)
    .default(fallback)
    .openapi({ type: "integer", minimum: min, maximum: max, default: fallback });

/** A cursor query parameter: the previous page's `cursor`, as `schema` checks it; empty counts as absent. */
export const queryCursor = (schema: z.ZodString) =>
  z
    .preprocess(absentIfEmpty, schema.optional())
    .optional()
    .openapi({
      type: "string",
      description: "The `cursor` of the previous page",
      ...(schema.maxLength === null ? {} : { maxLength: schema.maxLength }),
    });

/** The body of a POST or PUT that takes none: absent, or `{}` (any field is unknown). */
export const EmptyBody = z.strictObject({}).openapi("EmptyBody");

/** The contract's error body. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

/** OpenAPI response entries for an error status. */
export const errorResponse = (description: string) => ({
  content: { "application/json": { schema: ErrorSchema } },
  description,
});

/** The responses every authenticated route can give besides its own. */
export const commonErrors = {
  400: errorResponse("Invalid request: `details.field` names the offending field"),
  401: errorResponse("Missing or unknown bearer token"),
  403: errorResponse("`forbidden`: the token's scopes do not cover this operation, or a foreign `Origin`"),
  413: errorResponse("Body over 1 MiB, or a value over 256 KiB"),
  415: errorResponse("Body that is not JSON"),
} as const;

/** Wraps a response schema as an OpenAPI JSON response. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

/** A JSON response that also carries `ETag: "<version>"`. */
export const versionedResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  ...jsonResponse(schema, description),
  headers: {
    ETag: { description: 'The version, quoted: `"<version>"`', schema: { type: "string" as const } },
  },
});

/** The `429 backpressure` response, with its `Retry-After` header. */
export const backpressureResponse = (description: string) => ({
  ...errorResponse(description),
  headers: {
    "Retry-After": {
      description: "Seconds to wait before publishing again",
      schema: { type: "integer" as const },
    },
  },
});

/** Wraps a request schema as a required OpenAPI JSON body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

/**
 * The `cursor` of a page: where the next one starts, null at the end. `description` says so to
 * the reader, with what else ends a page early where something does.
 */
export const nextCursor = (description = "Pass it back for the next page; null at the end") =>
  z.string().nullable().openapi({ description });

const encoder = new TextEncoder();

/** Bytes of a string's UTF-8 encoding. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * Size of a value (a state value, a task payload or result, an event's data) as the 256 KiB
 * limit counts it: a string its own UTF-8 bytes, so that a 256 KiB string is "at the limit" the
 * way its writer thinks of it; anything else the UTF-8 bytes of its JSON text.
 */
export function valueBytes(value: unknown, json: string = JSON.stringify(value) ?? ""): number {
  return typeof value === "string" ? utf8Bytes(value) : utf8Bytes(json);
}
