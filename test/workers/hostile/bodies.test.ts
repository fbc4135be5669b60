/**
 * Issue 22, "a body nested 5,000 deep" and the body rows' fuzzing: deep, huge, chunked and slow
 * bodies get the contract's 400 / 413 on every path (HTTP and the service binding), never a 5xx.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, MAX_REQUEST_BYTES } from "../../../shared/schemas/common.ts";
import { scanJsonText, valueFlaw } from "../../../workers/http/json-body.ts";
import { call, TOKEN, unique } from "../helpers.ts";

/** `depth` nested arrays around a number: `[[[1]]]` is 3 deep. */
const nestedText = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
/** A PUT body whose value is `depth` arrays deep: the body itself is one level more. */
const putBody = (depth: number) => `{"value":${nestedText(depth)}}`;

/** The path of the first number that is not finite, in document order (recursive: small values only). */
function firstNonFinite(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = firstNonFinite(child, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function nestedValue(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/**
 * Sends `text` to a state key as `chunks` pieces of a stream with no Content-Length, as
 * `contentType` (none where null).
 */
async function putStreamed(
  path: string,
  text: string,
  chunks: number,
  { pauseMs = 0, contentType = "application/json" as string | null } = {},
) {
  const bytes = new TextEncoder().encode(text);
  const size = Math.ceil(bytes.byteLength / chunks);
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (at >= bytes.byteLength) return controller.close();
      if (pauseMs > 0) await scheduler.wait(pauseMs);
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
  const res = await exports.default.fetch(
    new Request(`http://localhost${path}`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(contentType === null ? {} : { "content-type": contentType }),
      },
      body,
    }),
  );
  const json = (await res.json()) as { error?: { code: string; details?: Record<string, unknown> } };
  return { status: res.status, body: json };
}

describe("numbers a double cannot hold", () => {
  /** Sends `text` as a JSON body. */
  const send = (method: string, path: string, text: string) =>
    call(method, path, undefined, { raw: text, headers: { "content-type": "application/json" } });

  it("refuses 1e400 anywhere in a body with 400 naming the field, instead of storing null", async () => {
    const ns = unique("inf");
    const queue = unique("inf");
    const topic = unique("inf");
    const cases: Array<[method: string, path: string, text: string, field: string]> = [
      ["PUT", `/v1/state/${ns}/k`, '{"value":1e400}', "value"],
      ["PUT", `/v1/state/${ns}/k`, '{"value":{"a":[1,-1E+400]}}', "value.a.1"],
      ["POST", `/v1/state/${ns}/k/increment`, '{"by":1e400}', "by"],
      // Overflows with a two-digit exponent: 1 and 300 zeros, times 10^10; 1 and 250 zeros .5, times 10^60.
      ["PUT", `/v1/state/${ns}/k`, `{"value":1${"0".repeat(300)}e10}`, "value"],
      ["PUT", `/v1/state/${ns}/k`, `{"value":[1${"0".repeat(250)}.5e60]}`, "value.0"],
      [
        "POST",
        `/v1/queues/${queue}/tasks`,
        '{"tasks":[{"payload":1},{"payload":{"n":1e999}}]}',
        "tasks.1.payload.n",
      ],
      ["POST", `/v1/topics/${topic}/events`, `{"type":"t","data":1${"0".repeat(400)}}`, "data"],
    ];
    for (const [method, path, text, field] of cases) {
      const res = await send(method, path, text);
      expect(res.status, `${method} ${path} ${text.slice(0, 60)}`).toBe(400);
      expect(res.error).toMatchObject({ code: "invalid_request", details: { field } });
    }
    // Nothing was stored: the key is still absent.
    expect((await call("GET", `/v1/state/${ns}/k`)).status).toBe(404);
    // Large finite numbers, and such digits inside strings, are taken as they are.
    const fine = await send("PUT", `/v1/state/${ns}/k`, '{"value":{"big":1e308,"text":"1e400"}}');
    expect(fine.status).toBe(200);
    expect((await call("GET", `/v1/state/${ns}/k`)).body).toMatchObject({
      value: { big: 1e308, text: "1e400" },
    });
  });

  it("refuses Infinity and NaN through the service binding too", async () => {
    const ns = unique("inf");
    const state = await exports.SwitchyardRpc.state();
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(await state.put(ns, "k", { value: { list: [0, bad] } })).toMatchObject({
        ok: false,
        error: { code: "invalid_request", details: { field: "value.list.1" } },
      });
    }
    const queue = await exports.SwitchyardRpc.queues();
    expect(await queue.enqueue(unique("inf"), { payload: Number.NEGATIVE_INFINITY })).toMatchObject({
      ok: false,
      error: { code: "invalid_request", details: { field: "payload" } },
    });
  });
});

describe("deep bodies", () => {
  it("answers a body nested 5,000 deep (10 KB) with 400, not a 500", async () => {
    const ns = unique("deep");
    const res = await call("PUT", `/v1/state/${ns}/k`, undefined, {
      raw: putBody(5_000),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: "invalid_request", details: { limit: MAX_JSON_DEPTH } });
  });

  it("takes a body exactly 64 deep and refuses 65", async () => {
    const ns = unique("deep");
    const put = (depth: number) =>
      call("PUT", `/v1/state/${ns}/k`, undefined, {
        raw: putBody(depth - 1),
        headers: { "content-type": "application/json" },
      });
    expect((await put(MAX_JSON_DEPTH)).status).toBe(200);
    expect((await put(MAX_JSON_DEPTH + 1)).status).toBe(400);
  });

  it("refuses a value over the depth limit through the service binding too", async () => {
    const ns = unique("deep");
    const state = await exports.SwitchyardRpc.state();
    // 5,000 deep does not get this far: the caller's own RPC serialisation overflows its stack.
    const deep = await state.put(ns, "k", { value: nestedValue(1_000) });
    expect(deep).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    const txn = await state.txn(ns, { success: [{ op: "put", key: "t", value: nestedValue(100) }] });
    expect(txn).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    expect(await state.put(ns, "k", { value: nestedValue(MAX_JSON_DEPTH - 1) })).toMatchObject({ ok: true });
    const queue = await exports.SwitchyardRpc.queues();
    const task = await queue.enqueue(unique("deep"), { payload: nestedValue(1_000) });
    expect(task).toMatchObject({ ok: false, error: { code: "invalid_request" } });
  });

  it("counts depth in text and in values alike, whatever the strings hold", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(scanJsonText(text, max).tooDeep).toBe(
          valueFlaw(JSON.parse(text), max, "body")?.kind === "tooDeep",
        );
      }),
    );
  });

  it("names the first number a JSON body could not hold, in document order, unless the value is too deep", () => {
    expect(valueFlaw({ a: [1, { b: Infinity }], c: NaN }, MAX_JSON_DEPTH, "body")).toEqual({
      kind: "nonFinite",
      field: "a.1.b",
    });
    expect(valueFlaw(Number.NaN, MAX_JSON_DEPTH, "value")).toEqual({ kind: "nonFinite", field: "value" });
    expect(valueFlaw({ a: -Infinity, b: nestedValue(100) }, MAX_JSON_DEPTH, "body")).toEqual({
      kind: "tooDeep",
    });
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        expect(valueFlaw(value, MAX_JSON_DEPTH, "body")).toBeNull();
      }),
    );
    // Against the plain recursive reading, on trees whose numbers may be Infinity or NaN.
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: "small" }, fc.double(), tie("array"), tie("object")),
      array: fc.array(tie("tree"), { maxLength: 5 }),
      object: fc.dictionary(fc.string({ maxLength: 3 }), tie("tree"), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(tree, (value) => {
        const first = firstNonFinite(value, []);
        expect(valueFlaw(value, MAX_JSON_DEPTH, "body")).toEqual(
          first === undefined
            ? null
            : { kind: "nonFinite", field: first.length > 0 ? first.join(".") : "body" },
        );
      }),
    );
  });

  it("ends on a cyclic value", () => {
    const a: unknown[] = [];
    a.push(a, a);
    expect(valueFlaw(a, MAX_JSON_DEPTH, "body")).toEqual({ kind: "tooDeep" });
  });
});

describe("body fuzzing: deep, huge, chunked, slow", () => {
  it("answers the same for a body however it is cut into chunks, with no Content-Length, whatever its type", async () => {
    const ns = unique("fuzz");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant("deep" as const), depth: fc.integer({ min: 1, max: 6_000 }) }),
          fc.record({
            kind: fc.constant("huge" as const),
            bytes: fc.integer({ min: MAX_REQUEST_BYTES - 64, max: 3 * MAX_REQUEST_BYTES }),
          }),
        ),
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", null),
        async (shape, chunks, contentType) => {
          const text =
            shape.kind === "deep" ? putBody(shape.depth) : `{"value":"${"x".repeat(shape.bytes - 12)}"}`;
          const res = await putStreamed(`/v1/state/${ns}/k`, text, chunks, { contentType });
          const size = new TextEncoder().encode(text).byteLength;
          if (contentType === null || contentType === "text/plain") {
            // The media type is checked before the size (415 before 413), from the first chunk.
            expect(res.status).toBe(415);
            expect(res.body.error?.code).toBe("unsupported_media_type");
          } else if (size > MAX_REQUEST_BYTES) {
            expect(res.status).toBe(413);
            expect(res.body.error?.code).toBe("payload_too_large");
          } else if (shape.kind === "deep" && shape.depth + 1 > MAX_JSON_DEPTH) {
            expect(res.status).toBe(400);
            expect(res.body.error?.code).toBe("invalid_request");
          } else {
            // Past the reader, the value's own 256 KiB limit may still refuse it: never a 5xx.
            expect([200, 400, 413]).toContain(res.status);
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it("reads a slow body to its end and still cuts a slow huge one at 1 MiB", async () => {
    const ns = unique("fuzz");
    const slowSmall = await putStreamed(`/v1/state/${ns}/k`, putBody(10), 20, { pauseMs: 5 });
    expect(slowSmall.status).toBe(200);
    const slowHuge = await putStreamed(
      `/v1/state/${ns}/k`,
      `{"value":"${"x".repeat(4 * MAX_REQUEST_BYTES)}"}`,
      64,
      { pauseMs: 5 },
    );
    expect(slowHuge.status).toBe(413);
  });
});
