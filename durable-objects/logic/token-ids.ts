/**
 * Token ids that prove they were minted: `tk_` + base64url of 12 random bytes followed by the
 * first 12 bytes of HMAC-SHA256(key, those random bytes), the key being the token registry's own
 * secret. The registry drops a token's row once it has expired, yet must still tell an expired id
 * (revoking it answers `200`) from one never minted (`404`): the id carries that proof itself.
 * Pure WebCrypto, as the token codec.
 */
import { fromBase64Url, toBase64Url } from "../../workers/tokens/codec.ts";

const PREFIX = "tk_";
const NONCE_BYTES = 12;
const PROOF_BYTES = 12;
/** Bytes of secret the registry keeps for its ids. */
export const ID_SECRET_BYTES = 32;

/** The HMAC key of a registry's secret. */
export function tokenIdKey(secret: ArrayBuffer): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function proofOf(key: CryptoKey, nonce: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, nonce)).slice(0, PROOF_BYTES);
}

/** A new id, proved by `key`. */
export async function mintTokenId(key: CryptoKey): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const id = new Uint8Array(NONCE_BYTES + PROOF_BYTES);
  id.set(nonce);
  id.set(await proofOf(key, nonce), NONCE_BYTES);
  return `${PREFIX}${toBase64Url(id)}`;
}

/**
 * Whether `id` is one {@link mintTokenId} made with `key`: exactly its shape, and a proof that
 * matches (compared in time independent of where the bytes differ).
 */
export async function provesMinted(key: CryptoKey, id: string): Promise<boolean> {
  if (!id.startsWith(PREFIX)) return false;
  const bytes = fromBase64Url(id.slice(PREFIX.length));
  if (bytes?.byteLength !== NONCE_BYTES + PROOF_BYTES) return false;
  const expected = await proofOf(key, bytes.slice(0, NONCE_BYTES));
  let diff = 0;
  for (let i = 0; i < PROOF_BYTES; i++) diff |= (expected[i] as number) ^ (bytes[NONCE_BYTES + i] as number);
  return diff === 0;
}
