/**
 * The catalog client: which locks, queues, state namespaces, topics and breakers exist
 * (`GET /v1/<capability>`), one page at a time or every name by following the cursor.
 * @example
 * const catalog = httpCatalog(new HttpTransport({ baseUrl, token }));
 * for await (const q of catalog.all("queues", { prefix: "tenant-42:" })) console.log(q.name);
 */
import { type Result, unwrap } from "../errors.ts";
import type { CatalogCapability, CatalogEntry, CatalogPage } from "../schemas/catalog.ts";
import type { HttpTransport } from "./http.ts";
import { type CallTable, callsOver, httpTransport } from "./transport.ts";

/** A listing's query: `limit` 1..1000 (default 100), `cursor` from the previous page. */
export interface CatalogListOptions {
  prefix?: string;
  limit?: number;
  cursor?: string;
}

export interface CatalogApi {
  /** One page; a scoped token's page may be short or empty while `cursor` is not null. */
  list(capability: CatalogCapability, options?: CatalogListOptions): Promise<Result<CatalogPage>>;
  /** Every entry under `prefix`, in byte order of the name; throws an `ApiError` on a failure. */
  all(
    capability: CatalogCapability,
    options?: Omit<CatalogListOptions, "cursor">,
  ): AsyncGenerator<CatalogEntry, void, undefined>;
}

/** The listing call, as the Worker declares it for each capability (its catalog routes). */
export const CATALOG_CALLS = {
  list: { http: "GET /v1/{capability}", args: ["capability", "query"] },
} as const satisfies CallTable;

/** The catalog over HTTP. */
export function httpCatalog(http: HttpTransport): CatalogApi {
  const { list } = callsOver<Pick<CatalogApi, "list">>(httpTransport(http), "catalog", CATALOG_CALLS);
  return {
    list,
    async *all(capability, options = {}) {
      let cursor: string | undefined;
      do {
        const page = unwrap(await list(capability, { ...options, cursor }));
        yield* page.items;
        cursor = page.cursor ?? undefined;
      } while (cursor !== undefined);
    },
  };
}
