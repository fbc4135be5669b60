/**
 * The type of an answer's body, from the declared operations: `call("POST", `/v1/queues/${q}/lease`)`
 * answers the body `leaseTasks` declares for its success status. A path the types cannot place (a
 * plain `string`, an undeclared route) answers `unknown`.
 */
import type { OpenApiDocument } from "../../scripts/lib/api-reference.ts";
import type { SuccessOf } from "../../workers/declare/client-calls.ts";
import type { MOUNTED } from "./operations.ts";

type Mounted = typeof MOUNTED;

/** A path's segments, without its query. */
type Segments<S extends string> = S extends `${infer Head}/${infer Tail}` ? [Head, ...Segments<Tail>] : [S];
type PathOf<P extends string> = P extends `${infer Path}?${string}` ? Path : P;

/** The one route outside the tables whose JSON the tests read (workers/meta/routes.ts). */
type MetaOperation = { verb: "GET"; segments: ["", "openapi.json"]; body: OpenApiDocument };

/** Each declared operation: its verb, its full path's segments, its success body. */
type Operation = MetaOperation | TableOperation;

type TableOperation = {
  [Mount in keyof Mounted]: {
    [K in keyof Mounted[Mount]]: OperationAt<Mount & string, Mounted[Mount][K]>;
  }[keyof Mounted[Mount]];
}[keyof Mounted];

type OperationAt<Mount extends string, Entry> = Entry extends {
  http: infer Http;
  route: { responses: infer R };
}
  ? RouteOf<Mount, Http, SuccessOf<R>>
  : never;

/** One route of an entry (a catalog entry declares one per capability: a union of `http`). */
type RouteOf<Mount extends string, Http, Body> = Http extends `${infer Verb} ${infer Path}`
  ? { verb: Verb; segments: Segments<`${Mount}${Path extends "/" ? "" : Path}`>; body: Body }
  : never;

/** A path's segments fit a route's: the same count, each literal equal or a `{parameter}`. */
type Fits<Given extends string[], Route extends string[]> = Given extends [
  infer G extends string,
  ...infer GRest extends string[],
]
  ? Route extends [infer R extends string, ...infer RRest extends string[]]
    ? R extends `{${string}}`
      ? Fits<GRest, RRest>
      : G extends R
        ? Fits<GRest, RRest>
        : false
    : false
  : Route extends []
    ? true
    : false;

type Matching<Verb extends string, Given extends string[], Op = Operation> = Op extends {
  verb: Verb;
  segments: infer S extends string[];
}
  ? Fits<Given, S> extends true
    ? Op
    : never
  : never;

/** The body of the success answer of `method path`; `unknown` where the types cannot tell. */
export type BodyOf<Method extends string, Path extends string> = string extends Method | Path
  ? unknown
  : Path extends unknown // one path at a time (a union: `/v1/${"locks" | "queues"}`)
    ? BodyAt<Method, Segments<PathOf<Path>>>
    : never;

type BodyAt<Method extends string, Given extends string[]> = [Matching<Method, Given>] extends [never]
  ? unknown
  : Matching<Method, Given>["body"];
