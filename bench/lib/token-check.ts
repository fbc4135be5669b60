/**
 * The token check alone, in this process: the admin token's digest comparison against a scoped
 * token's signature check, payload decoding and scope match, the two parts of the request path
 * in which the two tokens differ (revocation is a lookup in a cached set). Node's WebCrypto
 * (OpenSSL) and workerd's (BoringSSL) run the same HMAC and SHA-256; this measures the share an
 * HTTP row cannot separate from its noise.
 */
import { timingSafeEqual } from "node:crypto";
import { allows } from "../../workers/http/access.ts";
import { tokenMatches } from "../../workers/http/auth.ts";
import { keyRing, openToken, signToken } from "../../workers/tokens/codec.ts";

/** Workers add `timingSafeEqual` to `crypto.subtle`; Node has it in `node:crypto`. */
function addWorkersTimingSafeEqual(): void {
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (a: ArrayBuffer, b: ArrayBuffer) => boolean;
  };
  subtle.timingSafeEqual ??= (a, b) => timingSafeEqual(new Uint8Array(a), new Uint8Array(b));
}

/** Microseconds per check of each token, the best of `rounds` interleaved rounds of `checks`. */
export async function tokenCheckMicros(
  checks: number,
  rounds: number,
): Promise<{ admin: number; scoped: number }> {
  addWorkersTimingSafeEqual();
  const adminToken = "bench-admin-token-0123456789abcdef";
  const ring = await keyRing("bench-signing-key-0123456789abcdef");
  if (!ring) throw new Error("no key ring");
  const scopedToken = await signToken(ring, {
    id: "bench",
    scopes: [{ resource: "locks:bench-*", actions: ["write"] }],
    exp: Date.now() + 3_600_000,
  });
  const check = {
    admin: async () => {
      if (!(await tokenMatches(adminToken, [adminToken]))) throw new Error("admin token refused");
    },
    scoped: async () => {
      const payload = await openToken(ring, scopedToken);
      if (
        !payload ||
        !allows(
          { kind: "scoped", id: payload.id, scopes: payload.scopes, expiresAt: payload.exp },
          "locks",
          "write",
          "bench-1",
        )
      ) {
        throw new Error("scoped token refused");
      }
    },
  };
  const best = { admin: Number.POSITIVE_INFINITY, scoped: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    for (const token of ["admin", "scoped"] as const) {
      const started = performance.now();
      for (let i = 0; i < checks; i++) await check[token]();
      best[token] = Math.min(best[token], ((performance.now() - started) * 1000) / checks);
    }
  }
  return best;
}
