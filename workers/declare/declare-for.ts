/**
 * How a table writes its operations: `declareFor` takes what a table's entries share (the
 * capability, the OpenAPI tags, each path parameter's schema, errors every entry can answer) and
 * gives one function per action; an entry then states only what is particular to it, and the
 * function fills in the rest of its {@link Declared} shape (./table.ts):
 * - `access`: the table's capability and the function's action (`catalog` where the entry says
 *   so, `queryToken` for a WebSocket upgrade);
 * - `route.request`: the parameters the path names, in path order, with the table's schemas;
 *   `headers`, `query`, and `body: X` (a required JSON body; `optionalBody(X)` one the request
 *   may leave out); a POST or PUT without `body` takes none or `{}` (`EmptyBody`), so that a body
 *   with fields is refused as everywhere else, and its RPC method has no body argument;
 * - `route.responses`: the common errors, the table's `errors`, then the entry's own (which win);
 *   `commonErrors: false` keeps the entry's alone;
 * - `rpc`: the path parameters in path order, then the request parts the entry has (`body`,
 *   `query`, `headers`); an entry lists them itself where its RPC method differs, or says `false`
 *   (offered over HTTP only).
 *
 * @example
 * const locks = declareFor({ capability: "locks", tags: ["Locks"], params: { name: NameParam("Lock name") } });
 * release: locks.write("releaseLock", "POST /{name}/release", {
 *   summary: "Release a grant",
 *   body: ReleaseRequest,
 *   responses: { 200: jsonResponse(Released, "Released"), 409: errorResponse("`not_holder`") },
 *   call: (env, { params, body }) => lockObject(env, params.name).release(body),
 * }),
 */
import { type RouteConfig, z } from "@hono/zod-openapi";
import { commonErrors, EmptyBody, errorResponse, jsonBody } from "../../shared/schemas/common.ts";
import { ACTIONS, type Action, type Capability } from "../http/access.ts";
import type { Access } from "../http/operation.ts";
import { TOKEN_LAPSE_NOTE } from "../http/socket-admission.ts";
import {
  type AnyDeclared,
  type CallInput,
  type Declared,
  type DeclaredRoute,
  type DeclaredUpgrade,
  REQUEST_PARTS,
  type RpcFunction,
} from "./table.ts";

const METHODS = { GET: "get", POST: "post", PUT: "put", DELETE: "delete" } as const;
type Verb = keyof typeof METHODS;

/** A route as the client's call tables write it, below the table's mount: `"POST /{name}/release"`. */
export type Http = `${Verb} /${string}`;

/** The path parameters a route names, in path order. */
type PathNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? [Name, ...PathNames<Rest>]
  : [];

/** Each path parameter's schema, by name. */
type ParamSchemas = Record<string, z.ZodType>;

/** A JSON body the request may leave out (it then reads as `{}`). */
export interface OptionalBody<S extends z.ZodType = z.ZodType> {
  optionalBody: S;
}

/** A JSON body of schema `schema` that the request may leave out. */
export function optionalBody<S extends z.ZodType>(schema: S): OptionalBody<S> {
  return { optionalBody: schema };
}

type BodySpec = z.ZodType | OptionalBody;
type Responses = RouteConfig["responses"];
/** The schema of a query or headers: an object. */
type PartSchema = NonNullable<NonNullable<RouteConfig["request"]>["query"]>;

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOut<B> = B extends OptionalBody<infer S> ? z.output<S> : Out<B>;
type ParamsOut<H extends string, M> =
  PathNames<H> extends []
    ? undefined
    : { [K in PathNames<H>[number]]: K extends keyof M ? Out<M[K]> : never };
type InputOf<H extends string, M, B, Q, Hd> = CallInput<ParamsOut<H, M>, BodyOut<B>, Out<Q>, Out<Hd>>;

type Part<S, Name extends string> = S extends undefined ? [] : [Name];
/** The arguments a call takes by default: the path parameters in path order, then the parts it has. */
export type DerivedArgs<H extends string, B, Q, Hd> = [
  ...PathNames<H>,
  ...Part<B, "body">,
  ...Part<Q, "query">,
  ...Part<Hd, "headers">,
];
type RpcOf<A, Table extends boolean, H extends string, B, Q, Hd> = A extends readonly string[]
  ? A
  : A extends false
    ? undefined
    : Table extends false
      ? undefined
      : DerivedArgs<H, B, Q, Hd>;

/** What a route says of itself besides its method and path. */
interface Described<Q, R extends Responses = Responses> {
  summary: string;
  description?: string;
  /** Instead of the table's tags. */
  tags?: string[];
  query?: Q;
  /** The entry's answer (the first 2xx is the success status) and its particular errors. */
  responses: R;
  /** `false`: the route answers only the entry's own responses (a WebSocket upgrade). */
  commonErrors?: false;
}

type CallFields =
  | "bodySchemaFor"
  | "otherNames"
  | "oversized"
  | "configured"
  | "call"
  | "json"
  | "responseHeaders"
  | "jsonText";

/** An operation with an object call, as a table writes it. */
export interface CallSpec<I extends CallInput, B, Q, Hd, Hr, A, T, W, R extends Responses = Responses>
  extends Described<Q, R>,
    Pick<Declared<I, undefined, T, W>, CallFields | "idempotent"> {
  /** The operation writes the name into existence: the catalog learns it on success. */
  catalog?: true;
  headers?: Hd;
  /** The schema of the `headers` argument over RPC, where it differs from the HTTP headers. */
  rpcHeaders?: Hr;
  body?: B;
  /** The RPC method's arguments, where they are not the derived ones; `false`: HTTP only. */
  rpc?: A;
}

/**
 * The schemas of the request parts a caller sends, as the entry gave them (`body` may be an
 * {@link OptionalBody}; `headers` are the RPC ones): the RPC target validates with them, and the
 * client's generated calls (scripts/client-calls.ts) take their input types from them.
 */
export interface Parts<B, Q, Hd> {
  parts: { body: B; query: Q; headers: Hd };
}

/** A WebSocket upgrade, as a table writes it; the token may also come as `?token=`. */
export interface UpgradeSpec<
  I extends CallInput,
  Q,
  F extends RpcFunction | undefined,
  R extends Responses = Responses,
> extends Described<Q, R>,
    Pick<DeclaredUpgrade<I, F>, "upgrade" | "rpc"> {}

/** Declares the operations of one action: `locks.write("releaseLock", "POST /{name}/release", {...})`. */
export interface Declarer<M extends ParamSchemas, Table extends boolean> {
  <
    const H extends Http,
    B extends BodySpec | undefined = undefined,
    Q extends PartSchema | undefined = undefined,
    Hd extends PartSchema | undefined = undefined,
    Hr extends z.ZodType | undefined = undefined,
    const A extends readonly string[] | false | undefined = undefined,
    T = unknown,
    W = T,
    R extends Responses = Responses,
  >(
    operationId: string,
    http: H,
    spec: CallSpec<InputOf<H, M, B, Q, Hd>, B, Q, Hd, Hr, A, T, W, R>,
  ): Declared<InputOf<H, M, B, Q, Hd>, RpcOf<A, Table, H, B, Q, Hd>, T, W> &
    Routed<H, R> &
    Parts<B, Q, Hr extends undefined ? Hd : Hr>;
  /** A WebSocket upgrade of this action. */
  upgrade<
    const H extends Http,
    Q extends PartSchema | undefined = undefined,
    F extends RpcFunction | undefined = undefined,
    R extends Responses = Responses,
  >(
    operationId: string,
    http: H,
    spec: UpgradeSpec<InputOf<H, M, undefined, Q, undefined>, Q, F, R>,
  ): DeclaredUpgrade<InputOf<H, M, undefined, Q, undefined>, F> & Routed<H, R>;
}

/**
 * An entry's route as its table wrote it: `http` is its method and path below the mount
 * (`"POST /{name}/release"`), and the route's responses hold the entry's own (typed: the Worker
 * tests read answers by them).
 */
export interface Routed<H extends Http, R extends Responses> {
  http: H;
  route: Omit<DeclaredRoute, "responses"> & { responses: R };
}

/** What every entry of a table shares. */
interface TableDefaults {
  tags: string[];
  /** Each path parameter's schema, by name: a route takes those its path names, in path order. */
  params?: ParamSchemas;
  /** Errors every entry of the table can answer besides the common ones (db: `503 unavailable`). */
  errors?: Responses;
  /** `false`: the table's operations are offered over HTTP only. */
  rpc?: false;
}

type ParamsOfTable<D> = D extends { params: infer M extends ParamSchemas } ? M : Record<never, z.ZodType>;
type RpcOfTable<D> = D extends { rpc: false } ? false : true;

/**
 * A table's declaring functions: one per action for a capability (`queues.consume(...)`, and
 * `queues.consume.upgrade(...)` for a WebSocket), or the one function of an admin-only table.
 */
export function declareFor<const D extends TableDefaults & { capability: Capability }>(
  table: D,
): Record<Action, Declarer<ParamsOfTable<D>, RpcOfTable<D>>>;
export function declareFor<const D extends TableDefaults & { adminOnly: true }>(
  table: D,
): Declarer<ParamsOfTable<D>, RpcOfTable<D>>;
export function declareFor(
  table: TableDefaults & ({ capability: Capability } | { adminOnly: true }),
): unknown {
  if ("adminOnly" in table) return declarerOf(table, () => ({ adminOnly: true }));
  const { capability } = table;
  const byAction = ACTIONS.map((action) => {
    const declarer = declarerOf(table, (catalog, queryToken) => ({
      capability,
      action,
      ...(catalog ? { catalog } : {}),
      ...(queryToken ? { queryToken } : {}),
    }));
    return [action, declarer] as const;
  });
  return Object.fromEntries(byAction) as Record<Action, AnyDeclarer>;
}

type AnyCallSpec = CallSpec<
  CallInput,
  BodySpec | undefined,
  PartSchema | undefined,
  PartSchema | undefined,
  z.ZodType | undefined,
  readonly string[] | false | undefined,
  unknown,
  unknown
>;
type AnyUpgradeSpec = UpgradeSpec<CallInput, PartSchema | undefined, RpcFunction | undefined>;

/** The declaring function as it runs: {@link Declarer} is its typed view. */
interface AnyDeclarer {
  (operationId: string, http: string, spec: AnyCallSpec): AnyDeclared;
  upgrade(operationId: string, http: string, spec: AnyUpgradeSpec): AnyDeclared;
}

function declarerOf(
  table: TableDefaults,
  accessOf: (catalog: boolean, queryToken: boolean) => Access,
): AnyDeclarer {
  const call = (operationId: string, http: string, spec: AnyCallSpec): AnyDeclared => {
    const route = routeOf(table, operationId, http, spec);
    return {
      access: accessOf(spec.catalog ?? false, false),
      http,
      route,
      rpc: rpcOf(table, route.path, spec),
      parts: { body: spec.body, query: spec.query, headers: spec.rpcHeaders ?? spec.headers },
      idempotent: spec.idempotent,
      bodySchemaFor: spec.bodySchemaFor,
      otherNames: spec.otherNames,
      oversized: spec.oversized,
      configured: spec.configured,
      call: spec.call,
      json: spec.json,
      responseHeaders: spec.responseHeaders,
      jsonText: spec.jsonText,
    };
  };
  const upgrade = (operationId: string, http: string, spec: AnyUpgradeSpec): AnyDeclared => ({
    access: accessOf(false, true),
    http,
    route: routeOf(table, operationId, http, relayedSocketDocs(spec)),
    upgrade: spec.upgrade,
    rpc: spec.rpc,
  });
  return Object.assign(call, { upgrade });
}

/**
 * What every upgrade route's entry says besides its own: its socket is relayed by the Worker
 * (workers/http/socket-relay.ts), so the cool-down after bad messages and the token's lapse are the
 * same on each.
 */
function relayedSocketDocs(spec: AnyUpgradeSpec): AnyUpgradeSpec {
  return {
    ...spec,
    description:
      spec.description === undefined ? TOKEN_LAPSE_NOTE : `${spec.description} ${TOKEN_LAPSE_NOTE}`,
    responses: {
      101: { description: "Switching protocols to a WebSocket" },
      429: errorResponse(
        "`rate_limited`, with `Retry-After`: sockets of this token on this route and name were closed for bad messages twice",
      ),
      ...spec.responses,
    },
  };
}

function pathNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? "");
}

/** The route: its method and path, the path's parameters, the entry's parts and responses. */
function routeOf(
  table: TableDefaults,
  operationId: string,
  http: string,
  spec: Described<PartSchema | undefined> & { headers?: PartSchema; body?: BodySpec },
): DeclaredRoute {
  const [, verb, path] = /^(GET|POST|PUT|DELETE) (\/.*)$/.exec(http) ?? [];
  if (verb === undefined || path === undefined) throw new Error(`${operationId}: not a route: ${http}`);
  const names = pathNames(path);
  const params =
    names.length > 0
      ? z.object(Object.fromEntries(names.map((name) => [name, paramSchema(table, name)])))
      : undefined;
  // A POST or PUT declared without a body still refuses one with fields (unknown fields are a 400).
  const body = spec.body ?? (verb === "POST" || verb === "PUT" ? optionalBody(EmptyBody) : undefined);
  const request = {
    ...(params ? { params } : {}),
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(body ? { body: bodyOf(body) } : {}),
  };
  const responses =
    spec.commonErrors === false ? spec.responses : { ...commonErrors, ...table.errors, ...spec.responses };
  return {
    operationId,
    method: METHODS[verb as Verb],
    path,
    tags: spec.tags ?? table.tags,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    ...(Object.keys(request).length > 0 ? { request } : {}),
    responses,
  };
}

function paramSchema(table: TableDefaults, name: string): z.ZodType {
  const schema = table.params?.[name];
  if (!schema) throw new Error(`no schema for the path parameter {${name}}`);
  return schema;
}

function bodyOf(body: BodySpec) {
  return "optionalBody" in body ? { ...jsonBody(body.optionalBody), required: false } : jsonBody(body);
}

/** The RPC arguments: the entry's, or the path's parameters then the request's parts. */
function rpcOf(table: TableDefaults, path: string, spec: AnyCallSpec): readonly string[] | undefined {
  if (spec.rpc !== undefined) return spec.rpc === false ? undefined : spec.rpc;
  if (table.rpc === false) return undefined;
  return [...pathNames(path), ...REQUEST_PARTS.filter((part) => spec[part] !== undefined)];
}
