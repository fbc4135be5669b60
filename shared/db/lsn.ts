/**
 * Postgres WAL positions (`pg_lsn`, written `X/Y` in hex) as numbers: compare and subtract them
 * without a round trip to the server.
 */

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The byte position of an LSN; throws RangeError on anything else. */
export function parseLsn(text: string): bigint {
  const m = LSN_PATTERN.exec(text);
  if (!m) throw new RangeError(`not a pg_lsn: ${text}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Bytes from `b` to `a` (negative when `a` is behind), as `pg_wal_lsn_diff(a, b)`. */
export function lsnDiff(a: string, b: string): number {
  return Number(parseLsn(a) - parseLsn(b));
}

/** True when position `a` is at or past position `b`. */
export function lsnReached(a: string, b: string): boolean {
  return parseLsn(a) >= parseLsn(b);
}
