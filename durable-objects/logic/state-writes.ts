/**
 * The write rules of a state namespace, free of storage: preconditions, put, delete, increment
 * and etcd-style transactions, with the reads they answer. Each takes the key's stored entry, the
 * namespace's current version and `now`, and returns the writes to apply (each taking the next
 * version) or the contract's failure. The state object loads entries, calls these, and applies
 * the writes.
 */
import { fail, ok, type Result } from "../../shared/errors.ts";
import type {
  IncrementInput,
  KeyRead,
  PreconditionInput,
  PutInput,
  TxnCompareInput,
  TxnInput,
  TxnOpResult,
} from "../../shared/schemas/state.ts";
import { PAGE_BYTES } from "./page-budget.ts";
import { encodeValue } from "./state-limits.ts";

/** A live key as stored: its value as JSON text. */
export interface StoredEntry {
  json: string;
  version: number;
  updatedAt: number;
  expiresAt: number | null;
}

/** One change to apply, with the version it takes. */
export type PlannedWrite =
  | { op: "set"; key: string; json: string; version: number; updatedAt: number; expiresAt: number | null }
  | { op: "delete" | "expire"; key: string; version: number };

/** Reads a live key (undefined when absent or expired). */
export type EntryReader = (key: string) => StoredEntry | undefined;

/**
 * `payload_too_large` naming `field` when the entries' values come to more than one answer
 * carries ({@link PAGE_BYTES}, as a page). Unlike a page, a read cannot stop early: it is refused.
 */
export function readTooLarge(
  entries: Iterable<StoredEntry | undefined>,
  field: string,
): Result<never> | undefined {
  // Counted in UTF-16 units of the stored JSON text: never more than its UTF-8 bytes.
  let length = 0;
  for (const entry of entries) length += entry?.json.length ?? 0;
  if (length <= PAGE_BYTES) return undefined;
  const message = `the values read come to ${length} characters of JSON text, over the ${PAGE_BYTES} one answer carries: read fewer keys at once`;
  return fail("payload_too_large", message, { field, limit: PAGE_BYTES, length });
}

/** A key as a read answers it: its entry, or `version: 0` alone when absent. */
export function keyRead(key: string, entry: StoredEntry | undefined): KeyRead {
  if (!entry) return { key, version: 0 };
  const read: KeyRead = {
    key,
    version: entry.version,
    value: JSON.parse(entry.json),
    updatedAt: entry.updatedAt,
  };
  if (entry.expiresAt !== null) read.expiresAt = entry.expiresAt;
  return read;
}

/** True when a key at `current` (0 = absent) satisfies the precondition. */
export function preconditionHolds(pre: PreconditionInput, current: number): boolean {
  if (pre.ifMatch === "*" && current === 0) return false;
  if (typeof pre.ifMatch === "number" && pre.ifMatch !== current) return false;
  if (pre.ifNoneMatch === "*" && current !== 0) return false;
  if (typeof pre.ifNoneMatch === "number" && pre.ifNoneMatch === current) return false;
  return true;
}

function checkPrecondition(
  key: string,
  pre: PreconditionInput,
  entry: StoredEntry | undefined,
): Result<void> {
  const current = entry?.version ?? 0;
  if (preconditionHolds(pre, current)) return ok(undefined);
  return fail("version_mismatch", `key ${JSON.stringify(key)} is at version ${current}`, {
    currentVersion: current,
  });
}

/** A put: the value replaces the old one; without `ttlMs` the key no longer expires (like Redis SET). */
export function planPut(
  key: string,
  input: PutInput,
  pre: PreconditionInput,
  entry: StoredEntry | undefined,
  version: number,
  now: number,
): Result<PlannedWrite & { op: "set" }> {
  const json = encodeValue(input.value);
  if (!json.ok) return json;
  const checked = checkPrecondition(key, pre, entry);
  if (!checked.ok) return checked;
  const expiresAt = input.ttlMs === undefined ? null : now + input.ttlMs;
  return ok({ op: "set", key, json: json.value, version: version + 1, updatedAt: now, expiresAt });
}

/** A delete: `not_found` when absent, whatever the `If-Match`; else the precondition, then the delete. */
export function planDelete(
  key: string,
  pre: PreconditionInput,
  entry: StoredEntry | undefined,
  version: number,
): Result<PlannedWrite & { op: "delete" }> {
  // The contract's order of checks puts 404 before 412.
  if (!entry) return fail("not_found", `no key ${JSON.stringify(key)}`);
  const checked = checkPrecondition(key, pre, entry);
  if (!checked.ok) return checked;
  return ok({ op: "delete", key, version: version + 1 });
}

/**
 * An increment: an absent key counts from 0; a value that is not a number, or a sum that is not
 * finite, is `not_a_number`. Without `ttlMs` the key keeps its expiry (like Redis INCR).
 */
export function planIncrement(
  key: string,
  input: IncrementInput,
  entry: StoredEntry | undefined,
  version: number,
  now: number,
): Result<{ write: PlannedWrite & { op: "set" }; value: number }> {
  const current: unknown = entry ? JSON.parse(entry.json) : 0;
  if (typeof current !== "number") {
    return fail("not_a_number", `key ${JSON.stringify(key)} does not hold a number`);
  }
  const value = current + input.by;
  if (!Number.isFinite(value)) {
    return fail("not_a_number", `incrementing key ${JSON.stringify(key)} leaves the finite numbers`);
  }
  const expiresAt = input.ttlMs === undefined ? (entry?.expiresAt ?? null) : now + input.ttlMs;
  return ok({
    write: { op: "set", key, json: JSON.stringify(value), version: version + 1, updatedAt: now, expiresAt },
    value,
  });
}

/** Deep equality of two JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const bo = b as Record<string, unknown>;
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(bo, k) && jsonEqual((a as Record<string, unknown>)[k], bo[k]))
  );
}

/** Whether one compare holds. An absent key has version 0 and a value equal to nothing. */
export function compareHolds(c: TxnCompareInput, entry: StoredEntry | undefined): boolean {
  if (c.version !== undefined) {
    const v = entry?.version ?? 0;
    switch (c.op) {
      case "==":
        return v === c.version;
      case "!=":
        return v !== c.version;
      case "<":
        return v < c.version;
      case ">":
        return v > c.version;
    }
  }
  const equal = entry !== undefined && jsonEqual(JSON.parse(entry.json), c.value);
  return c.op === "!=" ? !equal : equal;
}

/** Every key a transaction compares or operates on, in either branch. */
export function txnKeys(txn: TxnInput): Set<string> {
  return new Set([...txn.compare, ...txn.success, ...txn.failure].map((item) => item.key));
}

/** What a transaction does, before anything is written. */
export interface TxnPlan {
  succeeded: boolean;
  writes: PlannedWrite[];
  results: TxnOpResult[];
  /** The namespace's version after the writes. */
  version: number;
}

/**
 * Plans an etcd-style transaction: when every compare holds the `success` operations run, else
 * the `failure` ones, in order, each seeing the earlier ones' writes; every write takes the next
 * version. Values are checked in both branches first, so an oversized one fails the whole request.
 */
export function planTxn(txn: TxnInput, read: EntryReader, version: number, now: number): Result<TxnPlan> {
  const succeeded = txn.compare.every((c) => compareHolds(c, read(c.key)));
  const chosen = succeeded ? txn.success : txn.failure;
  const encoded: string[] = [];
  for (const [branch, ops] of [
    ["success", txn.success],
    ["failure", txn.failure],
  ] as const) {
    for (const [i, op] of ops.entries()) {
      if (op.op !== "put") continue;
      const json = encodeValue(op.value, `${branch}.${i}.value`);
      if (!json.ok) return json;
      if (ops === chosen) encoded[i] = json.value;
    }
  }
  const overlay = new Map<string, StoredEntry | undefined>();
  const current = (key: string) => (overlay.has(key) ? overlay.get(key) : read(key));
  const writes: PlannedWrite[] = [];
  const results: TxnOpResult[] = [];
  const got: Array<StoredEntry | undefined> = [];
  let v = version;
  for (const [i, op] of chosen.entries()) {
    const entry = current(op.key);
    switch (op.op) {
      case "get":
        got.push(entry);
        results.push({ op: "get", ...keyRead(op.key, entry) });
        break;
      case "put": {
        const json = encoded[i] as string;
        const expiresAt = op.ttlMs === undefined ? null : now + op.ttlMs;
        v += 1;
        writes.push({ op: "set", key: op.key, json, version: v, updatedAt: now, expiresAt });
        overlay.set(op.key, { json, version: v, updatedAt: now, expiresAt });
        results.push({ op: "put", key: op.key, version: v });
        break;
      }
      case "delete":
        if (!entry) {
          results.push({ op: "delete", key: op.key, deleted: false });
          break;
        }
        v += 1;
        writes.push({ op: "delete", key: op.key, version: v });
        overlay.set(op.key, undefined);
        results.push({ op: "delete", key: op.key, deleted: true, version: v });
        break;
    }
  }
  // Refused before its writes are made: none of them is made when the answer cannot be sent.
  return (
    readTooLarge(got, succeeded ? "success" : "failure") ?? ok({ succeeded, writes, results, version: v })
  );
}
