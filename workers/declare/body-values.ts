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

/** The first of `values` over the 256 KiB limit, refused as the object refuses it. */
export function firstOversized(values: Iterable<FieldValue>): ErrorInfo | undefined {
  for (const [field, value] of values) {
    if (value === undefined) continue;
    const text = measured(value, field);
    if (text && !text.ok) return text.error;
  }
  return undefined;
}

/**
 * {@link valueText}, or undefined for a value with no JSON text: an RPC caller's argument may be
 * cyclic or nested past the stack, which validation refuses with its `400`.
 */
function measured(value: unknown, field: string): Result<string> | undefined {
  try {
    return valueText(value, field);
  } catch {
    return undefined;
  }
}

/** The error of a failed check, as `oversized` answers it. */
export const errorOf = (result: Result<unknown> | undefined): ErrorInfo | undefined =>
  result && !result.ok ? result.error : undefined;
