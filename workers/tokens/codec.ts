/**
 * The scoped token's text: `sy1.<kid>.<payload>.<signature>`, where `payload` is the base64url
 * (no padding) of the JSON `{id, scopes, exp, rl?}` and `signature` the base64url of
 * HMAC-SHA256(key, "sy1.<kid>.<payload>"). `kid` is the first 8 hex digits of SHA-256(key), so a
 * verifier picks the right key of `TOKEN_SIGNING_KEYS` without trying each. Pure WebCrypto: runs
 * in Workers and Node alike, and needs no storage.
 */
import type { Principal, RateLimit, Scope } from "../http/access.ts";

/** The version prefix; `isScopedTokenText` in verify.ts tells scoped from admin tokens by it. */
export const TOKEN_VERSION = "sy1";

/** What a token carries, signed. */
export interface TokenPayload {
  id: string;
  scopes: Scope[];
  /** Expiry, Unix epoch milliseconds. */
  exp: number;
  rl?: RateLimit;
}

/** The principal a token's payload stands for (once its signature, expiry and revocation are checked). */
export function principalOf(payload: TokenPayload): Extract<Principal, { kind: "scoped" }> {
  return {
    kind: "scoped",
    id: payload.id,
    scopes: payload.scopes,
    expiresAt: payload.exp,
    ...(payload.rl ? { rateLimit: payload.rl } : {}),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Decodes base64url without padding, and only its canonical form: the text must be what
 * `toBase64Url` gives for the bytes (no padding, no stray trailing bits), so no two texts
 * decode to the same bytes. `null` for anything else.
 */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  let binary: string;
  try {
    binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64Url(bytes) === text ? bytes : null;
}

/** One signing key, imported once. */
interface SigningKey {
  kid: string;
  key: CryptoKey;
}

/** The keys of a `TOKEN_SIGNING_KEYS` value: the first signs, every one verifies (by kid). */
export interface KeyRing {
  signer: SigningKey;
  verifiers: ReadonlyMap<string, CryptoKey>;
}

/** The keys listed in a `TOKEN_SIGNING_KEYS` value, in order; empty when unset. */
export function listedKeys(setting: string | undefined): string[] {
  return (setting ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

async function importKey(secret: string): Promise<SigningKey> {
  const raw = encoder.encode(secret);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  const kid = [...hash.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  return { kid, key };
}

/** Imported key rings per setting value, once per isolate: the setting only changes with a deploy. */
const rings = new Map<string, Promise<KeyRing | null>>();

/** The key ring of a `TOKEN_SIGNING_KEYS` value; `null` when it lists no key. */
export function keyRing(setting: string | undefined): Promise<KeyRing | null> {
  const value = setting ?? "";
  let ring = rings.get(value);
  if (ring === undefined) {
    ring = buildRing(listedKeys(value));
    rings.set(value, ring);
  }
  return ring;
}

async function buildRing(secrets: string[]): Promise<KeyRing | null> {
  const keys = await Promise.all(secrets.map(importKey));
  const [signer] = keys;
  if (!signer) return null;
  // On a kid collision the first listed key wins; a collision of 32 bits between two keys
  // configured together is not a practical concern, and the verify then simply fails (401).
  const verifiers = new Map<string, CryptoKey>();
  for (const k of keys) if (!verifiers.has(k.kid)) verifiers.set(k.kid, k.key);
  return { signer, verifiers };
}

/** Signs a payload with the ring's first key. */
export async function signToken(ring: KeyRing, payload: TokenPayload): Promise<string> {
  const body = toBase64Url(encoder.encode(JSON.stringify(payload)));
  const signed = `${TOKEN_VERSION}.${ring.signer.kid}.${body}`;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", ring.signer.key, encoder.encode(signed)));
  return `${signed}.${toBase64Url(mac)}`;
}

const SIGNATURE_BYTES = 32;

/**
 * The payload of a token signed by one of the ring's keys, or `null` (wrong shape, unknown kid,
 * bad signature). Accepts a token only exactly as minted: four parts, a canonical 32-byte
 * signature, and the MAC over the other three parts' exact text. `crypto.subtle.verify`
 * compares in constant time. Expiry and revocation are the caller's to check.
 */
export async function openToken(ring: KeyRing, text: string): Promise<TokenPayload | null> {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const [version, kid, body, signature] = parts as [string, string, string, string];
  if (version !== TOKEN_VERSION) return null;
  const key = ring.verifiers.get(kid);
  if (!key) return null;
  const mac = fromBase64Url(signature);
  if (!mac || mac.byteLength !== SIGNATURE_BYTES) return null;
  const signed = encoder.encode(`${version}.${kid}.${body}`);
  if (!(await crypto.subtle.verify("HMAC", key, mac, signed))) return null;
  const bytes = fromBase64Url(body);
  if (!bytes) return null;
  try {
    return asPayload(JSON.parse(decoder.decode(bytes)));
  } catch {
    return null;
  }
}

/** The signature proves we wrote it; this only guards against a payload of an older shape. */
function asPayload(value: unknown): TokenPayload | null {
  if (typeof value !== "object" || value === null) return null;
  const p = value as Partial<TokenPayload>;
  if (typeof p.id !== "string" || typeof p.exp !== "number" || !Array.isArray(p.scopes)) return null;
  return p as TokenPayload;
}
