/**
 * One operation, declared once: its OpenAPI route (method, path, schemas, status codes,
 * `operationId`), the access a token needs, the arguments of its RPC method, and the object call.
 * `routesOf` (./routes.ts) turns a capability's table into its Hono routes, `rpcTargetOf`
 * (./rpc-target.ts) into its service-binding RPC target; both validate with the route's schemas.
 *
 * @example
 * export const lockOperations = {
 *   info: declare({
 *     access: { capability: "locks", action: "read" },
 *     route: { operationId: "getLock", method: "get", path: "/{name}", request: { params }, responses },
 *     rpc: ["name"],
 *     call: async (env, { params }) => ok(await lockObject(env, params.name).info()),
 *   }),
 * };
 */
import type { RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Env } from "../../shared/env.ts";
import type { Result } from "../../shared/errors.ts";
import type { JsonText } from "../../shared/json-text.ts";
import type { Principal } from "../http/access.ts";
import type { Access } from "../http/operation.ts";
import type { AppEnv } from "../http/router.ts";

/** The parts of a request besides its path parameters, as the RPC method takes them. */
export const REQUEST_PARTS = ["body", "query", "headers"] as const;
export type RequestPart = (typeof REQUEST_PARTS)[number];

/** A route as `operation()` takes it. */
export type DeclaredRoute = Omit<RouteConfig, "security" | "middleware"> & { operationId: string };

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;
type RequestOf<R> = R extends { request: infer Q } ? Q : object;
type PartOf<R, K extends string> = RequestOf<R> extends { [P in K]: infer S } ? Output<S> : undefined;
type BodyOf<R> =
  RequestOf<R> extends { body: { content: { "application/json": { schema: infer S } } } }
    ? Output<S>
    : undefined;

/** What the object call receives: the request's parts, validated by the route's schemas. */
export interface CallInput<R> {
  params: PartOf<R, "params">;
  body: BodyOf<R>;
  query: PartOf<R, "query">;
  headers: PartOf<R, "headers">;
}

/** Where the call runs: what HTTP adds (the caller's principal, an abort signal) and the background. */
export interface CallContext {
  /** Aborted when the HTTP client goes away (absent over RPC). */
  signal?: AbortSignal;
  /** Runs work after the answer (`ctx.waitUntil`) where the runtime gives a context. */
  waitUntil?: (work: Promise<unknown>) => void;
  /** The token's principal (absent over RPC, where the guard has already checked it). */
  principal?: Principal;
}

/**
 * An operation whose route, RPC method and client call are derived from it. `W` is what the RPC
 * method answers: the value itself, or what its {@link Declared.jsonText} encodes.
 */
export interface Declared<
  R extends DeclaredRoute = DeclaredRoute,
  A extends readonly string[] = readonly string[],
  T = unknown,
  W = T,
> {
  access: Access;
  route: R;
  /**
   * The RPC method's arguments in order: path parameters by name, then request parts
   * (`body`, `query`, `headers`); absent for an operation offered over HTTP only.
   */
  rpc?: A;
  /** The schema of the `headers` argument over RPC, where it differs from the HTTP headers. */
  rpcHeaders?: z.ZodType;
  /**
   * The schema that validates a given body, where the route's is a union: its errors then name
   * the field of the branch the body means (a queue's one task or batch), over HTTP and RPC alike.
   */
  bodySchemaFor?: (body: unknown) => z.ZodType;
  /** The object call: a result whose value is the RPC answer and (through `json`) the HTTP body. */
  call(env: Env, input: CallInput<R>, context: CallContext): Promise<Result<T>>;
  /** The HTTP body when it is not the value itself. */
  json?: (value: T) => unknown;
  /** Response headers taken from the value (state: the `ETag`). */
  headers?: (value: T) => Record<string, string>;
  /**
   * For a value that carries JSON text the object built around stored payloads: the text, sent
   * over HTTP as is (with `status` when the value picks it), and decoded for the RPC answer.
   */
  jsonText?: (value: T) => { text: JsonText<W>; status?: number };
}

/** Declares one operation; a typed identity, so that the table keeps each entry's types. */
export function declare<R extends DeclaredRoute, const A extends readonly string[], T, W = T>(
  operation: Declared<R, A, T, W>,
): Declared<R, A, T, W> {
  return operation;
}

/** An RPC method written by hand, for what does not map onto a request (a subscription's callbacks). */
export type RpcFunction = (env: Env, ...args: never[]) => Promise<Result<unknown>>;

/**
 * A WebSocket upgrade: the route answers the request itself, and an RPC method, when there is
 * one, is written by hand.
 */
export interface DeclaredUpgrade<
  R extends DeclaredRoute = DeclaredRoute,
  F extends RpcFunction = RpcFunction,
> {
  access: Access;
  route: R;
  upgrade(c: Context<AppEnv>, input: CallInput<R>): Promise<Response>;
  rpc?: F;
}

/** Declares a WebSocket upgrade (see {@link DeclaredUpgrade}). */
export function declareUpgrade<R extends DeclaredRoute, F extends RpcFunction>(
  operation: DeclaredUpgrade<R, F>,
): DeclaredUpgrade<R, F> {
  return operation;
}

/** Any declared operation, as the generic builders see it. */
export type AnyDeclared =
  | {
      access: Access;
      route: DeclaredRoute;
      rpc?: readonly string[];
      rpcHeaders?: z.ZodType;
      bodySchemaFor?: (body: unknown) => z.ZodType;
      call(env: Env, input: never, context: CallContext): Promise<Result<unknown>>;
      json?: (value: never) => unknown;
      headers?: (value: never) => Record<string, string>;
      jsonText?: (value: never) => { text: string; status?: number };
    }
  | {
      access: Access;
      route: DeclaredRoute;
      upgrade(c: Context<AppEnv>, input: never): Promise<Response>;
      rpc?: RpcFunction;
    };

/** A declared operation with an object call. */
export type AnyCall = Extract<AnyDeclared, { call: unknown }>;

/** A capability's operations, keyed by their RPC method name, in the order their routes match. */
export type OperationTable = Record<string, AnyDeclared>;

type RpcArgs<A> = A extends readonly [infer H, ...infer Rest]
  ? H extends RequestPart
    ? [input?: unknown, ...RpcArgs<Rest>]
    : [name: string, ...RpcArgs<Rest>]
  : [];

/** The RPC methods a table declares: each takes its `rpc` arguments and answers a `Result`. */
export type RpcMethods<T> = {
  [K in keyof T as T[K] extends Declared<DeclaredRoute, infer A, infer _, infer _W>
    ? A extends readonly [] | readonly [string, ...string[]]
      ? K
      : never
    : T[K] extends { rpc: RpcFunction }
      ? K
      : never]: T[K] extends Declared<DeclaredRoute, infer A, infer _, infer W>
    ? (...args: RpcArgs<A>) => Promise<Result<W>>
    : T[K] extends { rpc: (env: Env, ...args: infer P) => infer Answer }
      ? (...args: P) => Answer
      : never;
};
