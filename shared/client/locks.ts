/**
 * The lock client for edge apps: `withLock` runs a function under a lock, keeps the grant alive
 * while it runs and hands it the fencing token; `LockManager` releases everything it holds on
 * `close()`. Works over HTTP ({@link httpLocks}) and over a service binding ({@link rpcLocks}).
 */
import { ApiError, unwrap } from "../errors.ts";
import type { AcquireInput, LockGrant } from "../schemas/lock.ts";
import { LOCK_CALLS, type LockCalls } from "./calls.ts";
import type { HttpTransport } from "./http.ts";
import { bindingTransport, callsOver, httpTransport } from "./transport.ts";

/** The calls as the Worker declares them (generated: ./calls.ts). */
export { LOCK_CALLS };

/**
 * The lock operations, as both transports offer them: the lock table's calls (./calls.ts).
 * Idempotent by design: the same owner acquiring again gets the same grant, a second release
 * answers not_holder (which the client treats as released), extending twice sets the same expiry.
 */
export type LockApi = LockCalls;

/** Lock operations over HTTP. */
export const httpLocks = (http: HttpTransport): LockApi =>
  callsOver(httpTransport(http), "locks", LOCK_CALLS);

/** A service binding to Switchyard's `SwitchyardRpc` entrypoint, as far as locks go. */
export interface LockRpcBinding {
  locks(): LockApi;
}

/**
 * Lock operations over a service binding: no HTTP, no JSON, no auth header.
 * @example const locks = new LockClient(rpcLocks(env.SWITCHYARD));
 */
export const rpcLocks = (binding: LockRpcBinding): LockApi =>
  callsOver(bindingTransport(binding), "locks", LOCK_CALLS);

export interface WithLockOptions {
  /** Who holds the grant (default: a random id per call). */
  owner?: string;
  /** Grant lifetime; renewed every `ttlMs / 3` while `fn` runs (default 30 s). */
  ttlMs?: number;
  /** How long to wait for the lock (default 10 s). */
  waitMs?: number;
  /** More than 1 makes it a counting semaphore. */
  permits?: number;
  /** Called after each renewal, with the new expiry. */
  onRenew?: (expiresAt: number) => void;
}

/** What `fn` receives: the grant, and a signal that fires if the grant is lost. */
export interface HeldLock extends LockGrant {
  /** Aborted when a renewal finds the grant gone: stop writing with this token. */
  signal: AbortSignal;
}

export class LockClient {
  readonly api: LockApi;

  constructor(api: LockApi) {
    this.api = api;
  }

  /** Acquires or throws an {@link ApiError} (`lock_held` with `details.retryAfterMs`, ...). */
  async acquire(name: string, input: Partial<AcquireInput> & { owner: string }): Promise<LockGrant> {
    return unwrap(await this.api.acquire(name, input));
  }

  /** Releases; a grant that already expired counts as released. */
  async release(grant: LockGrant): Promise<void> {
    const result = await this.api.release(grant.name, { owner: grant.owner, token: grant.token });
    if (!result.ok && result.error.code !== "not_holder") throw ApiError.from(result.error);
  }

  /**
   * Runs `fn` while holding `name`, renewing the grant until `fn` settles, then releases it.
   * @example
   * await locks.withLock("invoice-42", async ({ token }) => {
   *   await db.query("UPDATE invoices SET ... WHERE id = 42 AND fence < $1", [token]);
   * });
   */
  async withLock<T>(
    name: string,
    fn: (lock: HeldLock) => Promise<T>,
    opts: WithLockOptions = {},
  ): Promise<T> {
    const ttlMs = opts.ttlMs ?? 30_000;
    const grant = await this.acquire(name, {
      owner: opts.owner ?? crypto.randomUUID(),
      ttlMs,
      waitMs: opts.waitMs ?? 10_000,
      permits: opts.permits ?? 1,
    });
    const lost = new AbortController();
    const renew = async () => {
      const r = await this.api
        .extend(name, { owner: grant.owner, token: grant.token, ttlMs })
        .catch(() => undefined);
      if (r?.ok) opts.onRenew?.(r.value.expiresAt);
      else if (r && r.error.code === "not_holder") lost.abort(ApiError.from(r.error));
    };
    const timer = setInterval(renew, Math.max(50, Math.floor(ttlMs / 3)));
    try {
      return await fn({ ...grant, signal: lost.signal });
    } finally {
      clearInterval(timer);
      if (!lost.signal.aborted) await this.release(grant);
    }
  }
}

/** Tracks the grants it hands out and releases all of them on `close()`. */
export class LockManager {
  readonly #client: LockClient;
  readonly #held = new Map<string, LockGrant>();

  constructor(client: LockClient) {
    this.#client = client;
  }

  /** Acquires and remembers the grant. */
  async acquire(name: string, input: Partial<AcquireInput> & { owner: string }): Promise<LockGrant> {
    const grant = await this.#client.acquire(name, input);
    this.#held.set(`${name}\u0000${grant.owner}`, grant);
    return grant;
  }

  /** Releases and forgets a grant. */
  async release(grant: LockGrant): Promise<void> {
    this.#held.delete(`${grant.name}\u0000${grant.owner}`);
    await this.#client.release(grant);
  }

  /** Grants currently held through this manager. */
  get held(): LockGrant[] {
    return [...this.#held.values()];
  }

  /** Releases everything still held; failures do not stop the others. */
  async close(): Promise<void> {
    const grants = this.held;
    this.#held.clear();
    await Promise.allSettled(grants.map((g) => this.#client.release(g)));
  }
}
