/**
 * Which names (of one capability) this isolate has already told the catalog about, and when: the reason the hot path
 * costs one Map lookup per request instead of a write per request. Bounded; the entries least
 * recently written to the catalog go first (a name in use is rewritten every `refreshMs`, which
 * moves it to the back, so the order is close to least recently used at no cost per hit).
 */

export interface SeenNamesOptions {
  /** Most names remembered (default 4096). */
  capacity?: number;
  /**
   * How often a name in use is written again (default 5 s): it refreshes `lastUsedAt`, and brings a
   * name back that a deleted queue took out of the catalog, within the contract's 10 s, from every
   * isolate that still uses it.
   */
  refreshMs?: number;
}

export class SeenNames {
  readonly #capacity: number;
  readonly #refreshMs: number;
  /** key → when it was last written to the catalog; Map order is write order. */
  readonly #writtenAt = new Map<string, number>();

  constructor(options: SeenNamesOptions = {}) {
    this.#capacity = options.capacity ?? 4096;
    this.#refreshMs = options.refreshMs ?? 5_000;
  }

  /**
   * Whether `key` should be written to the catalog at `now` (new here, or last written at least
   * `refreshMs` ago); a true answer counts as the write.
   */
  due(key: string, now: number): boolean {
    const at = this.#writtenAt.get(key);
    if (at !== undefined && now - at < this.#refreshMs) return false;
    this.#writtenAt.delete(key);
    this.#writtenAt.set(key, now);
    if (this.#writtenAt.size > this.#capacity) {
      const oldest = this.#writtenAt.keys().next().value;
      if (oldest !== undefined) this.#writtenAt.delete(oldest);
    }
    return true;
  }

  /** Forgets `key` (a failed write, a deleted name): the next sight writes again. */
  forget(key: string): void {
    this.#writtenAt.delete(key);
  }

  /** How many names are remembered. */
  get size(): number {
    return this.#writtenAt.size;
  }
}
