/**
 * What a state namespace may hold: the contract's key rule (1–512 bytes of UTF-8, no control
 * characters) and the 256 KiB value limit, as pure checks shared by the schemas and the object.
 */
import { fail, ok, type Result } from "../../shared/errors.ts";
import { utf8Bytes } from "../../shared/schemas/common.ts";
import { valueTooLarge } from "./value-size.ts";

/** Longest key, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 512;

const CONTROL = /\p{Cc}/u;
// With the `u` flag a well-formed surrogate pair is one code point, so this finds only lone halves,
// which have no UTF-8 encoding.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `key` is not a valid state key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return "must not be empty";
  if (LONE_SURROGATE.test(key)) return "must be valid Unicode";
  if (CONTROL.test(key)) return "must not contain control characters";
  if (utf8Bytes(key) > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} bytes of UTF-8`;
  return undefined;
}

/**
 * The JSON text a value is stored as: `invalid_request` when it has none (a function, `undefined`
 * over RPC), `payload_too_large` over 256 KiB ({@link valueTooLarge}).
 */
export function encodeValue(value: unknown, field = "value"): Result<string> {
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (json === undefined) return fail("invalid_request", `${field} must be a JSON value`, { field });
  return valueTooLarge(value, json, field) ?? ok(json);
}
