/** Calls the Worker's own `fetch` as an HTTP client would, with the dev token unless told otherwise. */
import { exports } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { expect, vi } from "vitest";
import { answerJson } from "../../shared/answer-json.ts";
import { ErrorSchema } from "../../shared/schemas/common.ts";
import type { BodyOf } from "./answer-types.ts";

export const TOKEN = "switchyard-dev-token";

export interface CallOptions {
  token?: string | null;
  headers?: Record<string, string>;
  /** A raw body, sent as is (no content-type added). */
  raw?: BodyInit;
}

/** An answer of the Worker: its body typed as the route's success answer, its error (if any) apart. */
export interface Answer<Body = unknown> {
  status: number;
  headers: Headers;
  /** The JSON body (undefined when empty or not JSON). */
  body: Body;
  /** The contract's error, when the answer is one. */
  error: z.output<typeof ErrorSchema>["error"] | undefined;
  text: string;
}

/** Sends a request to the Worker; JSON bodies are serialised with `content-type: application/json`. */
export async function call<const Method extends string, const Path extends string>(
  method: Method,
  path: Path,
  body?: unknown,
  opts: CallOptions = {},
): Promise<Answer<BodyOf<Method, Path>>> {
  const headers = new Headers(opts.headers);
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  let payload: BodyInit | undefined = opts.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(
    new Request(`http://localhost${path}`, { method, headers, body: payload }),
  );
  const text = await res.text();
  const json = answerJson(text);
  const parsed = ErrorSchema.safeParse(json);
  return {
    status: res.status,
    headers: res.headers,
    // The test's expect() checks what the route declares; a failing answer reads through `error`.
    body: json as BodyOf<Method, Path>,
    error: parsed.success ? parsed.data.error : undefined,
    text,
  };
}

/** A name no other test uses, so every test gets fresh objects. */
export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** `promise`, or a failure saying `what` did not happen within `ms`: a wait with a deadline. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Asserts that the public OpenAPI document lists every one of `paths`; returns the document. */
export async function expectDocumented(paths: string[]) {
  const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(paths));
  return doc;
}

/** Asserts an error answer: its status and the contract's error code. */
export function expectError(res: Answer, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.error?.code).toBe(code);
}

/** Asserts a 400 `invalid_request` that names `field`, the answer to every malformed input. */
export function expectInvalidField(res: Answer, field: string) {
  expectError(res, 400, "invalid_request");
  expect(res.error?.details?.field).toBe(field);
}

/** An object class whose hibernatable sockets a test watches close. */
interface SocketObjectClass {
  prototype: {
    webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void>;
  };
}

/**
 * The code of the first socket `objects` close on their side, once their own handler has run
 * (spied on the prototype: call `vi.restoreAllMocks()` after the test).
 */
export function objectSideClose(objects: SocketObjectClass): Promise<number> {
  return new Promise((resolve) => {
    const close = objects.prototype.webSocketClose;
    vi.spyOn(objects.prototype, "webSocketClose").mockImplementation(async function (
      this: unknown,
      ws,
      code,
      reason,
      wasClean,
    ) {
      await close.call(this, ws, code, reason, wasClean);
      resolve(code);
    });
  });
}
