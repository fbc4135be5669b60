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

/** The catalog over HTTP. */
export function httpCatalog(http: HttpTransport): CatalogApi {
  const list = (capability: CatalogCapability, options: CatalogListOptions = {}) => {
    const query = new URLSearchParams();
    if (options.prefix) query.set("prefix", options.prefix);
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.cursor) query.set("cursor", options.cursor);
    const qs = query.size > 0 ? `?${query}` : "";
    return http.request<CatalogPage>("GET", `/v1/${capability}${qs}`);
  };
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
