/**
 * One object per capability (`env.CATALOG.getByName("queues")`): the names that have been
 * written to, with when they were first and last seen. Workers write here once per new name per
 * isolate (workers/catalog/note.ts), so this object sees a trickle, not the request rate.
 */
import type { Env } from "../../shared/env.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { CATALOG_SCHEMA, type CatalogScan, type CatalogScanPage, CatalogStore } from "./store.ts";

export type { CatalogScan, CatalogScanPage } from "./store.ts";

export class CatalogObject extends SqlObject {
  private readonly store: CatalogStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, CATALOG_SCHEMA);
    this.store = new CatalogStore(this.sql);
  }

  /** Records that `name` was written at `at`: creates it, or moves `lastUsedAt` forward. */
  async note(name: string, at: number): Promise<void> {
    await this.ready;
    this.store.note(name, at);
  }

  /** Removes `name` (a deleted queue); a name never noted is fine. */
  async forget(name: string): Promise<void> {
    await this.ready;
    this.store.forget(name);
  }

  /** One page in byte order of the name. */
  async list(scan: CatalogScan): Promise<CatalogScanPage> {
    await this.ready;
    return this.store.scan(scan);
  }
}
