/**
 * The catalog of names (`GET /v1/<capability>`): its query, its page, and the opaque cursor.
 * Names sort in ascending byte order (`a-1` < `a-10` < `a-2` < `a-B` < `a-b`).
 */
import { z } from "@hono/zod-openapi";
import { NAME_PATTERN, nextCursor, queryCursor, queryIntOr } from "./common.ts";

/** The capabilities whose names the catalog keeps (`db` has no names). */
export const CATALOG_CAPABILITIES = ["locks", "queues", "state", "topics", "breakers"] as const;
export type CatalogCapability = (typeof CATALOG_CAPABILITIES)[number];

/** A prefix is the start of a name: the name alphabet, at most a name's length. */
const PREFIX_PATTERN = /^[A-Za-z0-9._:-]{0,128}$/;

/**
 * The least string above every name that starts with `prefix`: names are ASCII below 0x7f, so
 * `prefix + "\x7f"` bounds them, and any other name at or above `prefix` sorts after it.
 */
export function prefixEnd(prefix: string): string {
  return `${prefix}\x7f`;
}

/** Encodes a list position (the last name scanned) as an opaque cursor. */
export function encodeCatalogCursor(name: string): string {
  return btoa(`n:${name}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The name a cursor stands for, or undefined when it is not one of ours. */
export function decodeCatalogCursor(cursor: string): string | undefined {
  try {
    const text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    if (!text.startsWith("n:")) return undefined;
    const name = text.slice(2);
    return NAME_PATTERN.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

export const CatalogQuery = z.object({
  prefix: z
    .string()
    .regex(PREFIX_PATTERN, "must match ^[A-Za-z0-9._:-]{0,128}$")
    .default("")
    .openapi({ description: "Only names that start with this (case-sensitive)", example: "tenant-42:" }),
  limit: queryIntOr(1, 1000, 100),
  cursor: queryCursor(
    z.string().refine((c) => decodeCatalogCursor(c) !== undefined, "not a cursor from this API"),
  ),
});
export type CatalogQueryInput = z.output<typeof CatalogQuery>;

export const CatalogEntry = z
  .object({
    name: z.string(),
    createdAt: z.number().int().openapi({ description: "First write, epoch milliseconds" }),
    lastUsedAt: z
      .number()
      .int()
      .openapi({ description: "Latest write seen, epoch milliseconds; may lag by minutes" }),
  })
  .openapi("CatalogEntry");
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const CatalogPage = z
  .object({
    items: z.array(CatalogEntry),
    cursor: nextCursor(
      "Pass as `cursor` for the next page; only null ends the list (a scoped token's page may hold fewer than `limit` items)",
    ),
  })
  .openapi("CatalogPage");
export type CatalogPage = z.infer<typeof CatalogPage>;
