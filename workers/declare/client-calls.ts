/**
 * A table's operations as the client calls them, in types: what scripts/client-calls.ts reads
 * with the TypeScript checker to write the client's call tables (shared/client/calls.ts). Per
 * operation: its route, its arguments (the RPC method's, or for an operation offered over HTTP
 * only the ones the same rule derives), the input type of each request part (what a caller may
 * send, defaults left out) and the value it answers.
 */
import type { z } from "@hono/zod-openapi";
import type { Sent } from "../../shared/schemas/common.ts";
import type { TABLES } from "../tables.ts";
import type { DerivedArgs, OptionalBody } from "./declare-for.ts";
import type { Declared } from "./table.ts";

/** What a caller sends for a part's schema (`undefined`: the operation takes no such part). */
type In<S> = S extends OptionalBody<infer X> ? z.input<X> : S extends z.ZodType ? z.input<S> : undefined;
/** A query as a caller sends it: its coerced fields (`limit`) typed as they become. */
type QueryIn<S> = S extends z.ZodType ? Sent<S> : undefined;

/** The JSON body a response entry declares. */
type JsonOf<Entry> = Entry extends {
  content: { "application/json": { schema: infer S extends z.ZodType } };
}
  ? z.output<S>
  : unknown;

/** The statuses a route's entry names (without the index signature of every route's responses). */
type Named<R> = { [K in keyof R as string extends K ? never : number extends K ? never : K]: R[K] };

/** The body of a route's success answer (its 2xx responses; a WebSocket upgrade declares none). */
export type SuccessOf<R> = [Extract<keyof Named<R>, 200 | 201 | 202>] extends [never]
  ? unknown
  : JsonOf<Named<R>[Extract<keyof Named<R>, 200 | 201 | 202>]>;

/** One operation as the client calls it. */
export interface ClientCallTypes<Http, OverRpc extends boolean, Args, Body, Query, Headers, Answer, Success> {
  http: Http;
  /** Whether the service binding offers it too (`false`: HTTP only). */
  overRpc: OverRpc;
  args: Args;
  body: Body;
  query: Query;
  headers: Headers;
  /** The RPC method's answer (offered over HTTP only: the success body). */
  answer: Answer;
  /** The success body the route declares. */
  success: Success;
}

type CallOf<E> = E extends {
  http: infer H extends string;
  route: { responses: infer R };
  parts: { body: infer B; query: infer Q; headers: infer Hd };
}
  ? E extends Declared<never, infer A, infer _T, infer W>
    ? A extends readonly string[]
      ? ClientCallTypes<H, true, A, In<B>, QueryIn<Q>, In<Hd>, W, SuccessOf<R>>
      : ClientCallTypes<
          H,
          false,
          DerivedArgs<H, B, Q, Hd>,
          In<B>,
          QueryIn<Q>,
          In<Hd>,
          SuccessOf<R>,
          SuccessOf<R>
        >
    : never
  : never;

/** A table's operations with an object call (WebSocket upgrades have none), as the client calls them. */
export type ClientCallsOf<T> = {
  [K in keyof T as CallOf<T[K]> extends never ? never : K]: CallOf<T[K]>;
};

/** Every table as the client calls it, by capability: what scripts/client-calls.ts reads. */
export type EveryClientCall = {
  [C in keyof typeof TABLES]: ClientCallsOf<(typeof TABLES)[C]["operations"]>;
};
