/**
 * The isolate's copy of the revoked-id list. A check reads memory only; the list is refreshed
 * from the registry object in the background once it is {@link REFRESH_AFTER_MS} old, and a check
 * waits for a fresh copy only when the one it has is {@link MAX_AGE_MS} old (or there is none).
 * So a revocation reaches every isolate within 10 s while the request path, in steady use, makes
 * no storage round trip. Ages count from when a fetch started, so a slow fetch errs on the safe side.
 */
import type { Clock } from "../../shared/resilience/clock.ts";
import type { Background } from "../http/access.ts";

/** Age after which a check starts a background refresh. */
export const REFRESH_AFTER_MS = 5_000;
/** Age after which a check waits for a fresh list: the contract's bound on revocation. */
export const MAX_AGE_MS = 10_000;

/** Fetches the current revoked ids (of unexpired tokens) as of `now`. */
export type FetchRevoked = (now: number) => Promise<readonly string[]>;

export class RevocationCache {
  readonly #fetch: FetchRevoked;
  readonly #clock: Pick<Clock, "now">;
  #ids: ReadonlySet<string> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(fetch: FetchRevoked, clock: Pick<Clock, "now">) {
    this.#fetch = fetch;
    this.#clock = clock;
  }

  /**
   * Whether `id` is revoked, as of at most `maxAgeMs` ago (an open socket's periodic check asks
   * for a fresher list than a request does, so that its own period fits in the contract's bound).
   */
  async isRevoked(id: string, ctx?: Background, maxAgeMs = MAX_AGE_MS): Promise<boolean> {
    const age = this.#clock.now() - this.#fetchedAt;
    if (this.#ids === undefined || age >= maxAgeMs) await this.#refresh();
    else if (age >= REFRESH_AFTER_MS) {
      const refreshing = this.#refresh().catch((err) => console.error("revocation refresh failed", err));
      ctx?.waitUntil(refreshing);
    }
    return this.#ids?.has(id) ?? true;
  }

  /** Marks an id revoked here at once (the isolate that revoked it need not wait for a refresh). */
  add(id: string): void {
    this.#ids = new Set([...(this.#ids ?? []), id]);
  }

  /** One fetch at a time; concurrent checks share it. */
  #refresh(): Promise<void> {
    this.#inflight ??= (async () => {
      const startedAt = this.#clock.now();
      try {
        const ids = await this.#fetch(startedAt);
        this.#ids = new Set(ids);
        this.#fetchedAt = startedAt;
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight;
  }
}
