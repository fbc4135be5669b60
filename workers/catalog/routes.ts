/**
 * `GET /v1/locks`, `/v1/queues`, `/v1/state`, `/v1/topics`, `/v1/breakers`: the names that
 * exist, in byte order, with prefix and cursor. A scoped token sees only the names a `read` scope
 * covers; the filter runs on each scanned page, so a page may hold fewer than `limit` items while
 * the cursor goes on (API.md, "Access tokens").
 */

import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import {
  type CatalogCapability,
  type CatalogEntry,
  CatalogPage,
  CatalogQuery,
  type CatalogQueryInput,
  decodeCatalogCursor,
  encodeCatalogCursor,
} from "../../shared/schemas/catalog.ts";
import { errorResponse, jsonResponse } from "../../shared/schemas/common.ts";
import { declareFor } from "../declare/declare-for.ts";
import { routesOf } from "../declare/routes.ts";
import { mayRead, type Principal } from "../http/access.ts";
import { catalogObject } from "./note.ts";

/** Each capability's listing: its path under `/v1`, operationId, OpenAPI tag and what it lists. */
const LISTINGS: Record<CatalogCapability, { operationId: string; tag: string; what: string }> = {
  locks: { operationId: "listLocks", tag: "Locks", what: "locks" },
  queues: { operationId: "listQueues", tag: "Task queue", what: "queues" },
  state: { operationId: "listStateNamespaces", tag: "State", what: "state namespaces" },
  topics: { operationId: "listTopics", tag: "Event bus", what: "topics" },
  breakers: { operationId: "listBreakers", tag: "Circuit breakers", what: "circuit breakers" },
};

/** Keeps the entries the principal may read: every one for an admin. */
export function visibleEntries(
  principal: Principal,
  capability: CatalogCapability,
  items: readonly CatalogEntry[],
): CatalogEntry[] {
  if (principal.kind === "admin") return [...items];
  return items.filter((item) => mayRead(principal, capability, item.name));
}

/** One page of a capability's catalog as the principal may see it. */
export async function listCatalog(
  env: Env,
  principal: Principal,
  capability: CatalogCapability,
  query: CatalogQueryInput,
): Promise<CatalogPage> {
  const after = query.cursor === undefined ? "" : (decodeCatalogCursor(query.cursor) ?? "");
  const page = await catalogObject(env, capability).list({ prefix: query.prefix, after, limit: query.limit });
  return {
    items: visibleEntries(principal, capability, page.items),
    cursor: page.next === null ? null : encodeCatalogCursor(page.next),
  };
}

/** The listing of one capability, declared (HTTP only). */
function listing(capability: CatalogCapability) {
  const { operationId, tag, what } = LISTINGS[capability];
  const catalog = declareFor({ capability, tags: [tag], rpc: false });
  return catalog.read(operationId, `GET /${capability}`, {
    summary: `List the ${what} that exist`,
    description:
      "Names that have been written to, in ascending byte order (`a-1` < `a-10` < `a-2` < `a-B` < `a-b`); a name appears within 10 seconds of its first write. A scoped token sees only the names a `read` scope covers, so a page may hold fewer than `limit` items: only `cursor: null` ends the list.",
    query: CatalogQuery,
    responses: {
      200: jsonResponse(CatalogPage, `A page of ${what}`),
      403: errorResponse("The token has no `read` scope on this capability, or a foreign `Origin`"),
    },
    call: async (env, { query }, { principal }) => {
      if (!principal) throw new Error("listing: no guard ran for this route");
      return ok(await listCatalog(env, principal, capability, query));
    },
  });
}

const capabilities = Object.keys(LISTINGS) as CatalogCapability[];

/** The listing of each capability, by its name. */
export const catalogOperations = Object.fromEntries(capabilities.map((c) => [c, listing(c)])) as Record<
  CatalogCapability,
  ReturnType<typeof listing>
>;

/** The listing routes, mounted at `/v1`. */
export const catalogRoutes = routesOf(catalogOperations);
