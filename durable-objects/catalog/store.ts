/** The catalog's rows: one per name, with when it was first and last written. */
import { type CatalogEntry, prefixEnd } from "../../shared/schemas/catalog.ts";
import type { Sql } from "../lib/sql.ts";

// BINARY collation compares the UTF-8 bytes with memcmp: the contract's byte order, not a
// natural or locale one. Spelled out so that nobody "fixes" it with NOCASE.
export const CATALOG_SCHEMA = [
  `CREATE TABLE names (
     name TEXT COLLATE BINARY PRIMARY KEY,
     created_at INTEGER NOT NULL,
     last_used_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
] as const;

/** A scan of the catalog: names from `after` (exclusive) that start with `prefix`. */
export interface CatalogScan {
  prefix: string;
  /** The last name of the previous page; "" (below every name) for the first page. */
  after: string;
  limit: number;
}

/** Up to `limit` entries and, when more follow, the last name scanned (the next page's `after`). */
export interface CatalogScanPage {
  items: CatalogEntry[];
  next: string | null;
}

export class CatalogStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Creates `name`, or moves its `last_used_at` forward to `at`. */
  note(name: string, at: number): void {
    this.sql.run(
      `INSERT INTO names (name, created_at, last_used_at) VALUES (?1, ?2, ?2)
       ON CONFLICT (name) DO UPDATE SET last_used_at = max(last_used_at, excluded.last_used_at)`,
      name,
      at,
    );
  }

  forget(name: string): void {
    this.sql.run("DELETE FROM names WHERE name = ?", name);
  }

  /** One page in byte order of the name; a range scan of the primary key. */
  scan(scan: CatalogScan): CatalogScanPage {
    const rows = this.sql.all<{ name: string; created_at: number; last_used_at: number }>(
      `SELECT name, created_at, last_used_at FROM names
       WHERE name >= ?1 AND name < ?2 AND name > ?3
       ORDER BY name LIMIT ?4`,
      scan.prefix,
      prefixEnd(scan.prefix),
      scan.after,
      scan.limit + 1,
    );
    const more = rows.length > scan.limit;
    const page = more ? rows.slice(0, scan.limit) : rows;
    return {
      items: page.map((r) => ({ name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at })),
      next: more ? (page[page.length - 1]?.name ?? null) : null,
    };
  }
}
