/**
 * Reads a request body once, as a stream, before validation: not JSON → 415 (whatever its size,
 * as the contract orders the checks), past 1 MiB → 413 the moment the stream passes it (with or
 * without `Content-Length`, so the Worker never holds more), malformed, nested deeper than 64 or
 * holding a number a double cannot (`1e400`) → 400. An empty body reads as `{}`, so routes whose
 * fields all have defaults accept no body.
 */
import type { Context } from "hono";
import { ApiError } from "../../shared/errors.ts";
import { MAX_JSON_DEPTH, MAX_REQUEST_BYTES } from "../../shared/schemas/common.ts";

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `request body is over ${MAX_REQUEST_BYTES} bytes`, {
    limit: MAX_REQUEST_BYTES,
  });
}

/** The body's bytes, refused as soon as they pass `limit`; the rest of the stream is cancelled. */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** What {@link scanJsonText} finds in JSON text. */
export interface TextScan {
  /** Arrays and objects nest deeper than the limit. */
  tooDeep: boolean;
  /**
   * A number a double may not hold: one with an exponent, or 309 digits in a row. Only then is
   * the parsed value walked for it ({@link valueFlaw}).
   */
  hugeNumber: boolean;
}

/**
 * One pass over JSON text, without parsing and skipping strings: the nesting of arrays and
 * objects against `maxDepth` (so a 5,000-deep body cannot overflow the parser's stack or anything
 * downstream), and whether a number may overflow a double.
 */
export function scanJsonText(text: string, maxDepth: number): TextScan {
  let depth = 0;
  let inString = false;
  let digits = 0;
  let hugeNumber = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
      continue;
    }
    if (ch >= 48 && ch <= 57) {
      if (++digits >= 309) hugeNumber = true;
      continue;
    }
    // An exponent: e or E straight after a digit (true and false have theirs after letters).
    if ((ch === 101 || ch === 69) && digits > 0) hugeNumber = true;
    else if (ch === 34) inString = true;
    else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > maxDepth) return { tooDeep: true, hugeNumber };
    } else if (ch === 125 /* } */ || ch === 93 /* ] */) depth--;
    digits = 0;
  }
  return { tooDeep: false, hugeNumber };
}

/** What a parsed value holds that JSON text may not: nesting past the limit, or a number that is not finite. */
export type ValueFlaw = { kind: "tooDeep" } | { kind: "nonFinite"; field: string };

/** An array or object on {@link valueFlaw}'s path: its keys (none for an array) and the next to visit. */
interface Frame {
  value: object;
  keys: string[] | undefined;
  next: number;
}

const frameOf = (value: object): Frame => ({
  value,
  keys: Array.isArray(value) ? undefined : Object.keys(value),
  next: 0,
});

/**
 * The flaw of a value (an RPC value, or parsed text whose scan found a huge number), or null:
 * arrays and objects nested deeper than `max` (counted as {@link scanJsonText} counts text; this
 * wins over any number), else the first number in document order that is not finite, named by its
 * dotted path from `root`. JSON text such as `1e400` parses to Infinity, which would be stored as
 * `null`, and structured clone carries Infinity and NaN as they are.
 *
 * One walk in document order without recursion, holding a frame only for each array or object on
 * the current path: a 1 MiB array of numbers costs no allocation per element. A shared or cyclic
 * object is walked again only when reached deeper, so the walk ends for any graph.
 */
export function valueFlaw(value: unknown, max: number, root: string): ValueFlaw | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : { kind: "nonFinite", field: root };
  if (value === null || typeof value !== "object") return null;
  if (max < 1) return { kind: "tooDeep" };
  const deepest = new Map<object, number>([[value, 1]]);
  const frames: Frame[] = [frameOf(value)];
  let nonFinite: string | undefined;
  for (let top = frames.at(-1); top !== undefined; top = frames.at(-1)) {
    const size = top.keys ? top.keys.length : (top.value as unknown[]).length;
    if (top.next >= size) {
      frames.pop();
      continue;
    }
    const key = top.keys ? (top.keys[top.next] as string) : top.next;
    top.next++;
    const child = (top.value as Record<string | number, unknown>)[key];
    if (typeof child === "number") {
      if (nonFinite === undefined && !Number.isFinite(child)) nonFinite = pathOf(frames);
    } else if (child !== null && typeof child === "object") {
      const depth = frames.length + 1;
      if (depth > max) return { kind: "tooDeep" };
      if ((deepest.get(child) ?? 0) >= depth) continue;
      deepest.set(child, depth);
      frames.push(frameOf(child));
    }
  }
  return nonFinite === undefined ? null : { kind: "nonFinite", field: nonFinite };
}

/** `a.1.b`: the keys each frame on the path has just visited. */
function pathOf(frames: readonly Frame[]): string {
  return frames.map((f) => (f.keys ? f.keys[f.next - 1] : f.next - 1)).join(".");
}

/** The contract's `400` for a flaw. */
export function flawError(flaw: ValueFlaw): ApiError {
  return flaw.kind === "tooDeep" ? tooDeep() : outOfRange(flaw.field);
}

/** The `400` for a body nested deeper than {@link MAX_JSON_DEPTH}. */
function tooDeep(field = "body"): ApiError {
  return new ApiError("invalid_request", `the body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
    field,
    limit: MAX_JSON_DEPTH,
  });
}

/** The `400` for a number that is not a finite double, at `field`. */
function outOfRange(field: string): ApiError {
  return new ApiError("invalid_request", `${field}: out-of-range number (JSON numbers must be finite)`, {
    field,
  });
}

/** Parses JSON text under the depth limit, with the contract's errors. */
export function parseJsonText(text: string, field = "body"): unknown {
  const scan = scanJsonText(text, MAX_JSON_DEPTH);
  if (scan.tooDeep) throw tooDeep(field);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "the body is not valid JSON", { field });
  }
  // The scan has checked the depth: a flaw here is a number.
  const flaw = scan.hugeNumber ? valueFlaw(value, MAX_JSON_DEPTH, field) : null;
  if (flaw) throw flawError(flaw);
  return value;
}

/** Whether a stream holds any byte; reads no further than the first chunk that has one. */
async function holdsBytes(body: ReadableStream<Uint8Array> | null): Promise<boolean> {
  if (body === null) return false;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return false;
    if (value.byteLength > 0) {
      await reader.cancel().catch(() => undefined);
      return true;
    }
  }
}

/**
 * Reads and checks the body of `c`'s request, then hands its text to Hono's validators; answers
 * the parsed body (undefined for a method without one, `{}` for an empty body).
 */
export async function readJsonBody(c: Context): Promise<unknown> {
  if (!BODY_METHODS.has(c.req.method)) return undefined;
  const declared = Number(c.req.header("content-length") ?? "0");
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim() ?? "";
  // The contract checks the media type before the size: a body of another type is 415 whatever
  // its length, found from its first byte. An empty one without a type reads as "", which the
  // validator takes as {} and which must not count as a body of the wrong type.
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    if (declared > 0 || (await holdsBytes(c.req.raw.body))) {
      throw new ApiError("unsupported_media_type", "the body must be JSON (content-type: application/json)");
    }
    cacheBodyText(c, "");
    return {};
  }
  if (declared > MAX_REQUEST_BYTES) throw tooLarge();
  // With a Content-Length the runtime ends the body there, so one arrayBuffer() is bounded and
  // cheaper than stepping a reader; a chunked body (no length) is read in steps and cut off.
  const bytes =
    c.req.header("content-length") && !c.req.header("transfer-encoding")
      ? new Uint8Array(await c.req.raw.arrayBuffer())
      : await readBounded(c.req.raw.body, MAX_REQUEST_BYTES);
  if (bytes.byteLength > MAX_REQUEST_BYTES) throw tooLarge();
  // Empty: "{}", which the validator then parses.
  const text = bytes.byteLength > 0 ? new TextDecoder().decode(bytes) : "{}";
  const body = parseJsonText(text);
  cacheBodyText(c, text);
  return body;
}

/** Hono's validators read the body through this cache. */
function cacheBodyText(c: Context, text: string): void {
  (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
}
