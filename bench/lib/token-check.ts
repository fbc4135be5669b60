/**
 * A scoped token's check alone, in this process: its signature, its payload and the scope match,
 * what a request with a scoped token does that one with no token does not (revocation is a lookup
 * in a cached set). Node's WebCrypto (OpenSSL) and workerd's (BoringSSL) run the same HMAC; this
 * measures the share an HTTP row cannot separate from its noise.
 */
import { allows } from "../../workers/http/access.ts";
import { keyRing, openToken, principalOf, signToken } from "../../workers/tokens/codec.ts";

/** Microseconds per check, the best of `rounds` rounds of `checks`. */
export async function scopedCheckMicros(checks: number, rounds: number): Promise<number> {
  const ring = await keyRing("bench-signing-key-0123456789abcdef");
  if (!ring) throw new Error("no key ring");
  const token = await signToken(ring, {
    id: "bench",
    scopes: [{ resource: "locks:bench-*", actions: ["write"] }],
    exp: Date.now() + 3_600_000,
  });
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < checks; i++) {
      const payload = await openToken(ring, token);
      if (!payload || !allows(principalOf(payload), "locks", "write", "bench-1")) {
        throw new Error("scoped token refused");
      }
    }
    best = Math.min(best, ((performance.now() - started) * 1000) / checks);
  }
  return best;
}
