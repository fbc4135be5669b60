/**
 * The byte budget of every answer that carries stored payloads (API 1.2: event pages, dead
 * letters, task pages and leases, WebSocket replays, state reads): a page stops at 8 MiB of
 * payload text or at its count, whichever comes first, and always holds at least one item so that
 * a reader can go on.
 */

/**
 * Most payload text one answer carries. An answer crosses Workers RPC (object to Worker, and on to
 * a bound caller), whose messages stop at 32 MiB, and workerd serialises parsed JSON to up to
 * about 3.4 times its text (measured: arrays of small numbers, or of `0.5`): 8 MiB stays under.
 */
export const PAGE_BYTES = 8 * 1024 * 1024;

/** An item's size, known before its payload is read. */
export interface Sized {
  bytes: number;
}

/**
 * The longest prefix of `items` with at most `limit` items and `budget` bytes, never empty when
 * `items` is not. Returns how many items to take.
 * @example fitPage([{ bytes: 5 }, { bytes: 5 }], 10, 8) // 1
 */
export function fitPage(items: readonly Sized[], limit: number, budget: number = PAGE_BYTES): number {
  let bytes = 0;
  let n = 0;
  for (const item of items) {
    if (n >= limit || (n > 0 && bytes + item.bytes > budget)) break;
    bytes += item.bytes;
    n++;
  }
  return n;
}
