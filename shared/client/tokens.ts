/**
 * Scoped tokens in the typed client: an admin mints, lists and revokes them ({@link TokenClient},
 * {@link mintToken}); every client then takes the minted text as its `token` (HTTP, `?token=` on
 * WebSockets), and {@link scopedBinding} narrows a service binding to it.
 *
 * @example
 * const { token } = unwrap(await mintToken(
 *   { baseUrl, token: adminToken },
 *   { scopes: [{ resource: "state:dashboard", actions: ["read"] }], ttlMs: 600_000 },
 * ));
 * const state = httpState(new HttpTransport({ baseUrl, token }), webSocketConnector({ baseUrl, token }));
 */
import type { Result } from "../errors.ts";
import type { MintedTokenValue, MintTokenInput, TokenListValue } from "../schemas/tokens.ts";
import { TOKEN_CALLS, type TokenCalls } from "./calls.ts";
import { type HttpClientOptions, HttpTransport } from "./http.ts";
import { callsOver, httpTransport } from "./transport.ts";

export type { MintTokenInput };
/** The calls as the Worker declares them (generated: ./calls.ts). */
export { TOKEN_CALLS };

/** Token management over HTTP; needs an admin (`API_TOKENS`) token. */
export class TokenClient {
  readonly #api: TokenCalls;

  constructor(http: HttpTransport) {
    this.#api = callsOver(httpTransport(http), "tokens", TOKEN_CALLS);
  }

  /** A client of `baseUrl` with an admin token. */
  static http(options: HttpClientOptions): TokenClient {
    return new TokenClient(new HttpTransport(options));
  }

  /** Mints a scoped token: `201 {id, token, expiresAt}`; the text is shown only here. */
  mint(input: MintTokenInput): Promise<Result<MintedTokenValue>> {
    return this.#api.mint(input);
  }

  /** One page of live tokens (never their text); go on while `cursor` is not `null`. */
  list(options: { limit?: number; cursor?: string } = {}): Promise<Result<TokenListValue>> {
    return this.#api.list(options);
  }

  /** Revokes a token: refused everywhere within 10 s. Safe to repeat. */
  revoke(id: string): Promise<Result<{ revoked: true }>> {
    return this.#api.revoke(id);
  }
}

/** Mints one scoped token with an admin token: `TokenClient.http(options).mint(input)`. */
export function mintToken(
  options: HttpClientOptions,
  input: MintTokenInput,
): Promise<Result<MintedTokenValue>> {
  return TokenClient.http(options).mint(input);
}

/** The capability getters of a binding to the `SwitchyardRpc` entrypoint. */
type Capabilities = "locks" | "queues" | "state" | "topics" | "breakers" | "db";
type RpcBindingLike = { [K in Capabilities]?: (options?: { token?: string }) => unknown };

/**
 * A service binding narrowed to a scoped token: each capability getter passes `{ token }`, so
 * every call is checked against the token's scopes (`{ok: false, error: {code: "forbidden"}}`
 * outside them). Works with every `rpc*` client helper.
 * @example const locks = new LockClient(rpcLocks(scopedBinding(env.SWITCHYARD, token)));
 */
export function scopedBinding<B extends RpcBindingLike>(binding: B, token: string): B {
  const narrowed: RpcBindingLike = {};
  for (const capability of ["locks", "queues", "state", "topics", "breakers", "db"] as const) {
    narrowed[capability] = (options) => binding[capability]?.({ ...options, token });
  }
  return narrowed as B;
}
