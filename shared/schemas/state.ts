/** Request, response and message schemas of `/v1/state/{namespace}`. */
import { z } from "@hono/zod-openapi";
import { keyProblem, MAX_KEY_BYTES } from "../../durable-objects/logic/state-limits.ts";
import { int, NameParam, queryCursor, queryIntOr, replayFrom, TokenQuery, utf8Bytes } from "./common.ts";

/** Longest TTL: ten years. */
export const MAX_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** Most compares, and most operations per branch, in one transaction (etcd's default). */
export const MAX_TXN_OPS = 128;

/** Most keys in one multi-key read: as many as a transaction's branch may get. */
export const MAX_READ_KEYS = MAX_TXN_OPS;

const Version = z.number().int().min(0).openapi({ example: 7, description: "Namespace-wide version" });
const Instant = z.number().int().openapi({ description: "Unix epoch milliseconds" });
const TtlMs = int(1, MAX_TTL_MS)
  .optional()
  .openapi({ example: 60_000, description: "Expire this long after the write (milliseconds)" });

/** A state key: 1–512 bytes of UTF-8 without control characters. */
export const StateKey = z
  .string()
  .superRefine((key, ctx) => {
    const problem = keyProblem(key);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({
    example: "users/42/profile",
    description: `1–${MAX_KEY_BYTES} bytes of UTF-8, no control characters`,
  });

/** A key prefix: any string up to the longest key. */
const Prefix = z
  .string()
  .default("")
  .refine((p) => utf8Bytes(p) <= MAX_KEY_BYTES, `must be at most ${MAX_KEY_BYTES} bytes of UTF-8`)
  .openapi({ example: "users/", description: "Only keys that start with this" });

/** A JSON value as TypeScript sees it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Any JSON value, required. (`z.unknown` documents as "any"; the cast only narrows the TS type.) */
export const JsonValue = z
  .unknown()
  .refine((v) => v !== undefined, "required")
  .openapi({ description: "Any JSON value (at most 256 KiB)", example: { plan: "pro" } }) as z.ZodType<Json>;

/** A JSON value in a response or a compare. */
const AnyJson = z.unknown().openapi({ description: "Any JSON value" }) as z.ZodType<Json>;

export const NamespaceParams = z.object({
  namespace: NameParam("Namespace").openapi({
    param: { name: "namespace", in: "path" },
    example: "sessions",
  }),
});

export const KeyParams = NamespaceParams.extend({
  key: StateKey.openapi({
    param: { name: "key", in: "path" },
    description: "The key, URL-encoded (`/` as `%2F`)",
    example: "users%2F42",
  }),
});

/** Encodes a list position (the last key returned) as an opaque cursor. */
export function encodeCursor(key: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The key a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const key = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    return keyProblem(key) === undefined ? key : undefined;
  } catch {
    return undefined;
  }
}

export const ListQuery = z.object({
  prefix: Prefix,
  limit: queryIntOr(1, 1000, 100),
  cursor: queryCursor(z.string().refine((c) => decodeCursor(c) !== undefined, "not a cursor from this API")),
});

export const SubscribeQuery = z.object({
  prefix: Prefix,
  fromVersion: replayFrom("Replay the retained changes after this version first"),
  token: TokenQuery,
});

/** `If-Match: "<version>"` / `*`, and `If-None-Match: *` / `"<version>"`, parsed. */
export const ETag = z
  .string()
  .transform((text, ctx) => {
    const trimmed = text.trim();
    if (trimmed === "*") return "*" as const;
    const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(trimmed);
    if (!m) {
      ctx.addIssue({ code: "custom", message: 'must be "<version>" or *' });
      return z.NEVER;
    }
    return Number(m[1]);
  })
  .openapi({ example: '"7"' });

/** What a conditional write demands of the key's current version (0 = absent). */
export const Precondition = z.object({
  /** A version (0: must be absent) or `*` (must exist). */
  ifMatch: z.union([Version, z.literal("*")]).optional(),
  /** `*` (must be absent) or a version the key must not have. */
  ifNoneMatch: z.union([Version, z.literal("*")]).optional(),
});

export const ConditionalHeaders = z.object({
  "if-match": ETag.optional().openapi({
    param: { name: "if-match", in: "header" },
    description: 'Compare-and-set: write only if the key\'s version is this ("0": absent; `*`: present)',
  }),
  "if-none-match": ETag.optional().openapi({
    param: { name: "if-none-match", in: "header" },
    description: "`*`: create only",
  }),
});

export const PutRequest = z.strictObject({ value: JsonValue, ttlMs: TtlMs }).openapi("StatePutRequest");

export const IncrementRequest = z
  .strictObject({
    by: z.number().default(1).openapi({ example: 1, description: "Added to the current number (default 1)" }),
    ttlMs: TtlMs,
  })
  .openapi("StateIncrementRequest");

export const StateEntry = z
  .object({
    key: z.string(),
    value: AnyJson,
    version: Version,
    updatedAt: Instant,
    expiresAt: Instant.optional(),
  })
  .openapi("StateEntry");

export const PutResult = z.object({ key: z.string(), version: Version }).openapi("StatePutResult");
export const Deleted = z.object({ deleted: z.literal(true) }).openapi("StateDeleted");
export const IncrementResult = z
  .object({ key: z.string(), value: z.number(), version: Version })
  .openapi("StateIncrementResult");

export const ListPage = z
  .object({
    items: z.array(z.object({ key: z.string(), version: Version, updatedAt: Instant })),
    cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null at the end" }),
  })
  .openapi("StateListPage");

const TxnCompare = z
  .strictObject({
    key: StateKey,
    op: z.enum(["==", "!=", "<", ">"]).default("=="),
    version: Version.optional().openapi({ description: "Compare the key's version (0 = absent)" }),
    value: AnyJson.optional().openapi({ description: "Compare the key's value (== or != only)" }),
  })
  .superRefine((c, ctx) => {
    const hasValue = "value" in c;
    // details.field names a field, never only the compare: the missing version, or the extra value.
    if ((c.version === undefined) === !hasValue) {
      const path = [hasValue ? "value" : "version"];
      ctx.addIssue({ code: "custom", path, message: "give exactly one of version and value" });
    } else if (hasValue && (c.op === "<" || c.op === ">")) {
      ctx.addIssue({ code: "custom", path: ["op"], message: "values compare with == or != only" });
    }
  })
  .openapi("StateTxnCompare");

const TxnOp = z
  .discriminatedUnion("op", [
    z.strictObject({ op: z.literal("put"), key: StateKey, value: JsonValue, ttlMs: TtlMs }),
    z.strictObject({ op: z.literal("delete"), key: StateKey }),
    z.strictObject({ op: z.literal("get"), key: StateKey }),
  ])
  .openapi("StateTxnOp");

export const TxnRequest = z
  .strictObject({
    compare: z.array(TxnCompare).max(MAX_TXN_OPS).default([]),
    success: z.array(TxnOp).max(MAX_TXN_OPS).default([]),
    failure: z.array(TxnOp).max(MAX_TXN_OPS).default([]),
  })
  .openapi("StateTxnRequest");

/** A key as a read found it: its entry, or only `version: 0` when it is absent. */
const KeyRead = z.object({
  key: z.string(),
  version: Version.openapi({ description: "0 when absent" }),
  value: AnyJson.optional(),
  updatedAt: Instant.optional(),
  expiresAt: Instant.optional(),
});

const TxnOpResult = z
  .union([
    z.object({ op: z.literal("put"), key: z.string(), version: Version }),
    z.object({ op: z.literal("delete"), key: z.string(), deleted: z.boolean(), version: Version.optional() }),
    KeyRead.extend({ op: z.literal("get") }),
  ])
  .openapi("StateTxnOpResult");

export const TxnResult = z
  .object({
    succeeded: z
      .boolean()
      .openapi({ description: "Whether every compare held (then `success` ran, else `failure`)" }),
    version: Version.openapi({ description: "The namespace's version after the transaction" }),
    results: z.array(TxnOpResult),
  })
  .openapi("StateTxnResult");

export const ReadRequest = z
  .strictObject({
    keys: z
      .array(StateKey)
      .max(MAX_READ_KEYS)
      .openapi({ description: `Up to ${MAX_READ_KEYS} keys; none reads only the namespace's version` }),
  })
  .openapi("StateReadRequest");

export const ReadResult = z
  .object({
    version: Version.openapi({ description: "The namespace's version the keys were read at" }),
    keys: z.array(KeyRead.openapi("StateKeyRead")).openapi({ description: "One per key asked, in order" }),
  })
  .openapi("StateReadResult");

/** A message on a subscription. */
export const StateMessage = z
  .union([
    z.object({
      type: z.literal("change"),
      op: z.enum(["set", "delete", "expire"]),
      key: z.string(),
      value: AnyJson.optional(),
      version: Version,
    }),
    z.object({ type: z.literal("reset"), version: Version }),
  ])
  .openapi("StateMessage");

export type PutInput = z.infer<typeof PutRequest>;
export type IncrementInput = z.infer<typeof IncrementRequest>;
export type ListInput = z.output<typeof ListQuery>;
export type SubscribeInput = z.output<typeof SubscribeQuery>;
export type PreconditionInput = z.infer<typeof Precondition>;
export type TxnInput = z.output<typeof TxnRequest>;
/** A transaction as a caller sends it: compares, then the `success` or `failure` operations. */
export type TxnRequestInput = z.input<typeof TxnRequest>;
/** One operation of a transaction branch, as sent. */
export type TxnOpRequest = NonNullable<TxnRequestInput["success"]>[number];
export type TxnCompareInput = TxnInput["compare"][number];
export type StateEntry = z.infer<typeof StateEntry>;
export type PutResult = z.infer<typeof PutResult>;
export type Deleted = z.infer<typeof Deleted>;
export type IncrementResult = z.infer<typeof IncrementResult>;
export type ListPage = z.infer<typeof ListPage>;
export type TxnOpResult = z.infer<typeof TxnOpResult>;
export type TxnResult = z.infer<typeof TxnResult>;
export type KeyRead = z.infer<typeof KeyRead>;
export type ReadInput = z.infer<typeof ReadRequest>;
export type ReadResult = z.infer<typeof ReadResult>;
export type StateMessage = z.infer<typeof StateMessage>;
