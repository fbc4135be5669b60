/**
 * The one registry of minted scoped tokens (a single object, named `registry`): what was minted,
 * which ids are revoked, and the live ones for the listing. Verification never calls it on the
 * request path: isolates cache its revoked-id list (workers/tokens/revocations.ts). Its alarm
 * prunes the rows of expired tokens; the ids it mints prove they were minted here
 * (`logic/token-ids.ts`), so revoking one still answers as the contract says once its row is gone.
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import type { TokenListValue } from "../../shared/schemas/tokens.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { ID_SECRET_BYTES, mintTokenId, provesMinted, tokenIdKey } from "../logic/token-ids.ts";
import { TOKEN_REGISTRY_SCHEMA, type TokenRecord, TokenStore } from "./store.ts";

/** Most rows one alarm ring prunes; while more are due the alarm rings again at once. */
export const PRUNE_STEP = 1000;
/**
 * How long a row outlives its token's expiry. Isolates check expiry by their own clocks: a
 * revoked token must stay in the revoked list until every isolate sees it expired, so the
 * registry's clock may run that far ahead of theirs.
 */
export const KEPT_AFTER_EXPIRY_MS = 60_000;

export class TokenRegistryObject extends SqlObject {
  private readonly store: TokenStore;
  private readonly alarmTime: ObjectAlarm;
  /** The key that proves this registry's token ids, imported on first use. */
  private idKey: Promise<CryptoKey> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, TOKEN_REGISTRY_SCHEMA);
    this.store = new TokenStore(this.sql);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
  }

  /** Records a token about to be minted; answers the id it is to carry. */
  async record(token: Omit<TokenRecord, "id">): Promise<string> {
    await this.ready;
    const id = await mintTokenId(await this.key());
    this.transaction(() => {
      this.store.insert({ id, ...token });
      const due = token.expiresAt + KEPT_AFTER_EXPIRY_MS;
      if (this.alarmTime.bringForward(due)) this.store.saveAlarmAt(due);
    });
    return id;
  }

  /** Live tokens (neither expired nor revoked) in id order, a page after `cursor`. */
  async list(limit: number, cursor: string | undefined, now: number): Promise<TokenListValue> {
    await this.ready;
    return this.store.live(limit, cursor, now);
  }

  /** Revokes a token; again for one already revoked or expired. `not_found` for an id never minted. */
  async revoke(id: string, now: number): Promise<Result<{ revoked: true }>> {
    await this.ready;
    if (this.store.exists(id)) {
      this.store.revoke(id, now);
      return ok({ revoked: true as const });
    }
    // A minted id has no row only once its token has expired and the alarm pruned it.
    if (this.store.mintedUnproved(id) || (await provesMinted(await this.key(), id))) {
      return ok({ revoked: true as const });
    }
    return fail("not_found", `no token ${id} was minted here`);
  }

  /** Ids revoked before they expired, still unexpired at `now`: the list isolates cache. */
  async revokedIds(now: number): Promise<string[]> {
    await this.ready;
    return this.store.revokedIds(now);
  }

  /**
   * Prunes the rows of tokens expired {@link KEPT_AFTER_EXPIRY_MS} before the time the alarm was
   * set for, at most {@link PRUNE_STEP} of them, then aims the alarm at once when more may be due,
   * else at the next expiry. Idempotent: a repeated ring finds nothing due.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    this.transaction(() => {
      const pruned = this.store.prune(now - KEPT_AFTER_EXPIRY_MS, PRUNE_STEP);
      this.aimAlarm(pruned === PRUNE_STEP ? now : this.pruneDue());
    });
  }

  protected override load(): void {
    this.alarmTime.restore(this.store.meta().alarmAt);
  }

  /** A new registry draws its id secret; one with rows from before the alarm pruned gets its alarm. */
  protected override onStart(): void {
    this.transaction(() => {
      if (this.store.meta().idSecret === null) {
        this.store.saveIdSecret(crypto.getRandomValues(new Uint8Array(ID_SECRET_BYTES)).buffer);
      }
      if (this.alarmTime.at === null) this.aimAlarm(this.pruneDue());
    });
  }

  /** When the earliest row kept falls due for pruning; null when no row is kept. */
  private pruneDue(): number | null {
    const expiry = this.store.earliestExpiry();
    return expiry === null ? null : expiry + KEPT_AFTER_EXPIRY_MS;
  }

  private aimAlarm(at: number | null): void {
    if (this.alarmTime.aim(at)) this.store.saveAlarmAt(at);
  }

  private key(): Promise<CryptoKey> {
    this.idKey ??= tokenIdKey(this.store.meta().idSecret as ArrayBuffer);
    return this.idKey;
  }
}
