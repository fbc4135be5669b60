/** Steps shared by the catalog tests: listing through the Worker, and waiting for a name to appear. */
import type { CatalogCapability } from "../../../shared/schemas/catalog.ts";
import { call } from "../helpers.ts";

/** `GET /v1/<capability>?...` through the Worker with the dev (admin) token. */
export function list(capability: CatalogCapability, query: Record<string, string | number> = {}) {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const qs: "" | `?${string}` = params.size > 0 ? `?${params}` : "";
  return call("GET", `/v1/${capability}${qs}`);
}

/** Every name under `prefix`, following the cursor to the end with pages of `limit`. */
export async function listAll(capability: CatalogCapability, prefix: string, limit = 100) {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await list(capability, { prefix, limit, ...(cursor ? { cursor } : {}) });
    if (res.status !== 200) throw new Error(`listing answered ${res.status}: ${res.text}`);
    names.push(...res.body.items.map((i) => i.name));
    cursor = res.body.cursor;
  } while (cursor !== null);
  return names;
}

/**
 * Polls the listing until `name` is (or, with `present = false`, is no longer) in it; the contract
 * allows 10 seconds. Returns the entry when present.
 */
export async function waitForName(capability: CatalogCapability, name: string, present = true) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await list(capability, { prefix: name, limit: 1 });
    const entry = res.body?.items?.find((i) => i.name === name);
    if (Boolean(entry) === present) return entry;
    if (Date.now() > deadline) {
      throw new Error(`${capability}:${name} did not ${present ? "appear" : "leave"} within 10 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
