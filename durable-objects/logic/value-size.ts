/**
 * The contract's 256 KiB limit on a stored value (a state value, a task's payload or result, an
 * event's data), measured one way by every object: the UTF-8 bytes of a string, else of its JSON
 * text. The Worker asks the same functions before validation (a declaration's `oversized`), so
 * that a body's `413` comes before its `400` and before a token's `429`, as the contract orders them.
 */
import { fail, ok, type Result } from "../../shared/errors.ts";
import { MAX_VALUE_BYTES, valueBytes } from "../../shared/schemas/common.ts";

/** `payload_too_large` naming `field` when `value`, whose JSON text is `text`, is over the limit. */
export function valueTooLarge(value: unknown, text: string, field: string): Result<never> | undefined {
  const bytes = valueBytes(value, text);
  if (bytes <= MAX_VALUE_BYTES) return undefined;
  return fail("payload_too_large", `${field} is ${bytes} bytes, over the ${MAX_VALUE_BYTES}-byte limit`, {
    field,
    limit: MAX_VALUE_BYTES,
    bytes,
  });
}

/** A value's JSON text as stored (`null` for none), or `payload_too_large` naming `field`. */
export function valueText(value: unknown, field: string): Result<string> {
  const text = JSON.stringify(value) ?? "null";
  return valueTooLarge(value, text, field) ?? ok(text);
}
