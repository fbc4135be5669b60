/**
 * The one registry of minted scoped tokens (a single object, named `registry`): what was minted,
 * which ids are revoked, and the live ones for the listing. Verification never calls it on the
 * request path: isolates cache its revoked-id list (workers/tokens/revocations.ts).
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import type { TokenListValue } from "../../shared/schemas/tokens.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { TOKEN_REGISTRY_SCHEMA, type TokenRecord, TokenStore } from "./store.ts";

export class TokenRegistryObject extends SqlObject {
  private readonly store: TokenStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, TOKEN_REGISTRY_SCHEMA);
    this.store = new TokenStore(this.sql);
  }

  /** Records a freshly minted token. */
  async record(token: TokenRecord): Promise<void> {
    await this.ready;
    this.store.insert(token);
  }

  /** Live tokens (neither expired nor revoked) in id order, a page after `cursor`. */
  async list(limit: number, cursor: string | undefined, now: number): Promise<TokenListValue> {
    await this.ready;
    return this.store.live(limit, cursor, now);
  }

  /** Revokes a token; again for one already revoked or expired. `not_found` for an id never minted. */
  async revoke(id: string, now: number): Promise<Result<{ revoked: true }>> {
    await this.ready;
    if (!this.store.exists(id)) return fail("not_found", `no token ${id} was minted here`);
    this.store.revoke(id, now);
    return ok({ revoked: true as const });
  }

  /** Ids revoked before they expired, still unexpired at `now`: the list isolates cache. */
  async revokedIds(now: number): Promise<string[]> {
    await this.ready;
    return this.store.revokedIds(now);
  }
}
