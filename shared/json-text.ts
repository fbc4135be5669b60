/**
 * JSON text that an object built from stored JSON (payloads, results) and that travels to the
 * client as is: the stored text is neither parsed nor serialised again on the way. The type
 * parameter says what the text encodes, for the routes and RPC methods that hand it on.
 */

declare const encodes: unique symbol;

/** JSON text known to encode a `T`. */
export type JsonText<T> = string & { readonly [encodes]?: T };

/** Marks `text` as the JSON of a `T` (the caller vouches for it). */
export const asJsonText = <T>(text: string): JsonText<T> => text as JsonText<T>;

/** The value a {@link JsonText} encodes, for callers that want objects (service-binding RPC). */
export const parseJsonText = <T>(text: JsonText<T>): T => JSON.parse(text) as T;

/**
 * The JSON of `fields` with the `raw` members appended as they are stored (JSON text each, left
 * out when null or undefined). `fields` must be a plain object with at least one member.
 * @example withRawMembers({ id: "7" }, { payload: '{"to":"a@b.c"}' }) // '{"id":"7","payload":{"to":"a@b.c"}}'
 */
export function withRawMembers(fields: object, raw: Record<string, string | null | undefined>): string {
  let text = JSON.stringify(fields).slice(0, -1);
  for (const [key, value] of Object.entries(raw)) {
    if (value !== null && value !== undefined) text += `,${JSON.stringify(key)}:${value}`;
  }
  return `${text}}`;
}

/** A JSON array of elements that are JSON text already. */
export const rawArray = (items: readonly string[]): string => `[${items.join(",")}]`;
