/**
 * One operation, declared once: its OpenAPI route (method, path, schemas, status codes,
 * `operationId`), the access a token needs, the arguments of its RPC method, and the object call.
 * A capability's table writes each entry with `declareFor` (./declare-for.ts), which fills in
 * what the table has in common; `routesOf` (./routes.ts) turns the table into its Hono routes,
 * `rpcTargetOf` (./rpc-target.ts) into its service-binding RPC target; both validate with the
 * route's schemas.
 *
 * @example
 * const locks = declareFor({ capability: "locks", tags: ["Locks"], params: { name: NameParam("Lock name") } });
 * export const lockOperations = {
 *   info: locks.read("getLock", "GET /{name}", {
 *     summary: "Holders and waiters of a lock",
 *     responses: { 200: jsonResponse(LockInfo, "The lock") },
 *     call: async (env, { params }) => ok(await lockObject(env, params.name).info()),
 *   }),
 * };
 * // info.route: { operationId: "getLock", method: "get", path: "/{name}", tags, summary,
 * //   request: { params: z.object({ name }) }, responses: { 200, ...commonErrors } }
 * // info.access: { capability: "locks", action: "read" }; info.rpc: ["name"]
 */
import type { RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Env } from "../../shared/env.ts";
import type { ErrorInfo, Result } from "../../shared/errors.ts";
import type { JsonText } from "../../shared/json-text.ts";
import type { Principal } from "../http/access.ts";
import type { Access } from "../http/operation.ts";
import type { AppEnv } from "../http/router.ts";

/** The parts of a request besides its path parameters, as the RPC method takes them. */
export const REQUEST_PARTS = ["body", "query", "headers"] as const;
export type RequestPart = (typeof REQUEST_PARTS)[number];

/** A route as `operation()` takes it. */
export type DeclaredRoute = Omit<RouteConfig, "security" | "middleware"> & { operationId: string };

/** What the object call receives: the request's parts, validated by the route's schemas. */
export interface CallInput<P = unknown, B = unknown, Q = unknown, H = unknown> {
  params: P;
  body: B;
  query: Q;
  headers: H;
}

/** Where the call runs: what HTTP adds (the caller's principal, an abort signal) and the background. */
export interface CallContext {
  /** Aborted when the HTTP client goes away (absent over RPC). */
  signal?: AbortSignal;
  /** Runs work after the answer (`ctx.waitUntil`) where the runtime gives a context. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** The token's principal (absent over RPC, where the guard has already checked it). */
  principal?: Principal;
  /**
   * Over RPC with a scoped token: whether it has expired or been revoked since the target was
   * made. What stays open past the call (state's `watch`) checks it while it does.
   */
  lapsed?: () => Promise<boolean>;
}

/**
 * An operation whose route, RPC method and client call are derived from it. `I` is the call's
 * validated input, `A` the RPC arguments (`undefined`: offered over HTTP only), `W` what the RPC
 * method answers: the value itself, or what its {@link Declared.jsonText} encodes.
 */
export interface Declared<
  I extends CallInput = CallInput,
  A extends readonly string[] | undefined = readonly string[] | undefined,
  T = unknown,
  W = T,
> {
  access: Access;
  /** The method and path below the table's mount, as the entry wrote them: `"POST /{name}/release"`. */
  http: string;
  route: DeclaredRoute;
  /**
   * The RPC method's arguments in order: path parameters by name, then request parts
   * (`body`, `query`, `headers`); absent for an operation offered over HTTP only.
   */
  rpc?: A;
  /** The schemas of the parts an RPC caller sends (`headers`: the RPC ones, where they differ). */
  parts?: { body?: unknown; query?: z.ZodType; headers?: z.ZodType };
  /**
   * Safe to send twice: a retry after a lost answer does no harm (the same owner acquiring again
   * gets the same grant). The client's HTTP transport retries such a POST as it does a GET.
   */
  idempotent?: true;
  /**
   * The schema that validates a given body, where the route's is a union: its errors then name
   * the field of the branch the body means (a queue's one task or batch), over HTTP and RPC alike.
   */
  bodySchemaFor?(body: unknown): z.ZodType;
  /**
   * The names of the capability a body reaches besides the one in the path (a flow's children in
   * other queues): the token needs the operation's action on each, over HTTP and RPC alike. It
   * takes any value, so that the RPC guard can read it before validation.
   */
  otherNames?(body: unknown): string[];
  /**
   * The `413 payload_too_large` the object would answer for a body (a value over its size limit),
   * found before validation: the contract checks sizes before the body's other faults (`400`) and
   * before the token's rate limit (`429`), both of which come before the object's own check. It
   * takes any value; the object still checks for itself.
   */
  oversized?(body: unknown): ErrorInfo | undefined;
  /**
   * What the call needs configured (Redis), as the object would refuse it: checked over HTTP after
   * validation and before the token's rate limit, since the contract answers `400 not_configured`
   * before the operation's own `429`. The object still checks for itself.
   */
  configured?(env: Env, input: I): ErrorInfo | undefined;
  /**
   * The object call: a result whose value is the RPC answer and (through `json`) the HTTP body.
   * The value's type is inferred from it alone (`NoInfer` below).
   */
  call(env: Env, input: I, context: CallContext): Promise<Result<T>>;
  /** The HTTP body when it is not the value itself. */
  json?(value: NoInfer<T>): unknown;
  /** Response headers taken from the value (state: the `ETag`). */
  responseHeaders?(value: NoInfer<T>): Record<string, string>;
  /**
   * For a value that carries JSON text the object built around stored payloads: the text, sent
   * over HTTP as is (with `status` when the value picks it), and decoded for the RPC answer.
   */
  jsonText?(value: NoInfer<T>): { text: JsonText<W>; status?: number };
}

/**
 * An RPC method written by hand, for what does not map onto a request (a subscription's
 * callbacks); it is called with the target's {@link CallContext} as `this`.
 */
export type RpcFunction = (env: Env, ...args: never[]) => Promise<Result<unknown>>;

/**
 * A WebSocket upgrade: the route answers the request itself, and an RPC method, when there is
 * one, is written by hand.
 */
export interface DeclaredUpgrade<
  I extends CallInput = CallInput,
  F extends RpcFunction | undefined = RpcFunction | undefined,
> {
  access: Access;
  /** The method and path below the table's mount, as the entry wrote them: `"POST /{name}/release"`. */
  http: string;
  route: DeclaredRoute;
  upgrade(c: Context<AppEnv>, input: I): Promise<Response>;
  rpc?: F;
}

/**
 * A declared operation with an object call, as the generic builders see it (the value's type is
 * theirs to pass on: the fields that take it are methods, so any entry fits).
 */
export type AnyCall = Declared<never, readonly string[] | undefined, unknown, unknown>;

/** Any declared operation. */
export type AnyDeclared = AnyCall | DeclaredUpgrade<never, RpcFunction | undefined>;

/** A capability's operations, keyed by their RPC method name, in the order their routes match. */
export type OperationTable = Record<string, AnyDeclared>;

type RpcArgs<A> = A extends readonly [infer H, ...infer Rest]
  ? H extends RequestPart
    ? [input?: unknown, ...RpcArgs<Rest>]
    : [name: string, ...RpcArgs<Rest>]
  : [];

/** The RPC methods a table declares: each takes its `rpc` arguments and answers a `Result`. */
export type RpcMethods<T> = {
  [K in keyof T as T[K] extends Declared<never, infer A, infer _, infer _W>
    ? A extends readonly [] | readonly [string, ...string[]]
      ? K
      : never
    : T[K] extends { rpc: RpcFunction }
      ? K
      : never]: T[K] extends Declared<never, infer A, infer _, infer W>
    ? (...args: RpcArgs<A>) => Promise<Result<W>>
    : T[K] extends { rpc: (env: Env, ...args: infer P) => infer Answer }
      ? (...args: P) => Answer
      : never;
};
