/**
 * Standard Webhooks signatures (standardwebhooks.com), with Web Crypto so the same code runs in the
 * Worker that signs and in any receiver (Workers, Node, browsers) that verifies:
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`, where `key`
 * is the base64-decoded part of the secret after `whsec_`.
 */

/** The prefix Standard Webhooks gives secrets. */
export const SECRET_PREFIX = "whsec_";

/** Random bytes in a generated secret (the specification asks for 24 to 64). */
export const SECRET_BYTES = 32;

/** How far a webhook's timestamp may be from the receiver's clock, as the reference libraries allow. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** A new secret: `whsec_` + base64 of {@link SECRET_BYTES} random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** Imports the HMAC key a secret holds; undefined when the secret is malformed. */
export async function importSecret(secret: string): Promise<CryptoKey | undefined> {
  const raw = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (!raw || raw.length === 0) return undefined;
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

const signedContent = (id: string, timestamp: number | string, body: string) =>
  encoder.encode(`${id}.${timestamp}.${body}`);

/** The `webhook-*` headers of one delivery attempt; `timestamp` in epoch seconds. */
export async function signatureHeaders(
  key: CryptoKey,
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  const mac = await crypto.subtle.sign("HMAC", key, signedContent(id, timestamp, body));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${toBase64(new Uint8Array(mac))}`,
  };
}

export interface SignedMessage {
  id: string;
  /** The `webhook-timestamp` header as received. */
  timestamp: string;
  /** The raw body, exactly as received. */
  body: string;
  /** The `webhook-signature` header: space-separated `v1,<base64>` entries (several during key rotation). */
  signature: string;
}

export type VerifyOutcome =
  | { ok: true }
  | { ok: false; reason: "bad_secret" | "bad_timestamp" | "bad_signature" };

/**
 * Checks a received webhook: the timestamp within `toleranceSeconds` of `nowSeconds`, and one of
 * the `v1` signatures valid. `crypto.subtle.verify` compares in constant time.
 */
export async function verifySignature(
  secret: string,
  message: SignedMessage,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): Promise<VerifyOutcome> {
  const key = await importSecret(secret);
  if (!key) return { ok: false, reason: "bad_secret" };
  const timestamp = Number(message.timestamp);
  if (!/^\d+$/.test(message.timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return { ok: false, reason: "bad_timestamp" };
  }
  const content = signedContent(message.id, message.timestamp, message.body);
  for (const entry of message.signature.split(" ")) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || !encoded) continue;
    const mac = fromBase64(encoded);
    if (mac && (await crypto.subtle.verify("HMAC", key, mac, content))) return { ok: true };
  }
  return { ok: false, reason: "bad_signature" };
}
