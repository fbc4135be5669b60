/**
 * Reading a body before validation, for a declaration's `oversized` (./table.ts): anything may stand
 * anywhere, so each step takes only the shape it expects and finds nothing otherwise; validation
 * then names the fault.
 */
import { valueText } from "../../durable-objects/logic/value-size.ts";
import type { ErrorInfo, Result } from "../../shared/errors.ts";

/** A value found in a body, with the field the object's refusal names (`tasks.3.payload`). */
export type FieldValue = readonly [field: string, value: unknown];

/** The field `key` of `value` when `value` is a JSON object. */
export function member(value: unknown, key: string): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The items of `value` when it is an array, else none. */
export const items = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

/** One value, or each item's, as `field` and `<list>.<i>.<field>` (a task or a batch of them). */
export function oneOrEach(body: unknown, list: string, field: string): FieldValue[] {
  const batch = member(body, list);
  if (batch === undefined) return [[field, member(body, field)]];
  return items(batch).map((item, i) => [`${list}.${i}.${field}`, member(item, field)]);
}

/** A size check of the objects': the value's stored form, or its `payload_too_large` naming `field`. */
export type SizeCheck = (value: unknown, field: string) => Result<unknown> | undefined;

/**
 * The first of `values` that `check` refuses (by default the 256 KiB limit), as the object refuses
 * it. A value the check cannot measure (an RPC caller's cyclic argument, which `JSON.stringify`
 * throws on) is left to validation and its `400`.
 */
export function firstOversized(
  values: Iterable<FieldValue>,
  check: SizeCheck = valueText,
): ErrorInfo | undefined {
  for (const [field, value] of values) {
    if (value === undefined) continue;
    const refused = errorOf(measured(check, value, field));
    if (refused) return refused;
  }
  return undefined;
}

function measured(check: SizeCheck, value: unknown, field: string): Result<unknown> | undefined {
  try {
    return check(value, field);
  } catch {
    return undefined;
  }
}

/** The error of a failed check. */
const errorOf = (result: Result<unknown> | undefined): ErrorInfo | undefined =>
  result && !result.ok ? result.error : undefined;
