/**
 * `/v1/state/{namespace}`: every state operation, declared once (see workers/declare/table.ts).
 * Keys travel URL-encoded in one path segment (`a%2Fb` for `a/b`); Hono matches on the path with
 * `%2F` still encoded and decodes the parameter afterwards. `subscribe`, `txn` and `read` are fixed
 * segments declared before the key routes; a GET on `subscribe` without `Upgrade: websocket` and
 * any other method on any of them reach the key of that name, so every key stays addressable.
 */
import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PAGE_BYTES } from "../../durable-objects/logic/page-budget.ts";
import { ApiError, unwrap } from "../../shared/errors.ts";
import { errorResponse, jsonResponse, versionedResponse } from "../../shared/schemas/common.ts";
import {
  ConditionalHeaders,
  Deleted,
  IncrementRequest,
  IncrementResult,
  KeyParams,
  ListPage,
  ListQuery,
  Precondition,
  PutRequest,
  PutResult,
  ReadRequest,
  ReadResult,
  StateEntry,
  SubscribeQuery,
  TxnRequest,
  TxnResult,
} from "../../shared/schemas/state.ts";
import { type FieldValue, firstOversized, items, member } from "../declare/body-values.ts";
import { declareFor, optionalBody } from "../declare/declare-for.ts";
import { withinRateLimit } from "../http/operation.ts";
import type { AppEnv } from "../http/router.ts";
import { admitSocket } from "../http/socket-admission.ts";
import { openSubscription, stateObject, watcherRules } from "./object.ts";
import { watch } from "./watch.ts";

const state = declareFor({
  capability: "state",
  tags: ["State"],
  params: { namespace: KeyParams.shape.namespace, key: KeyParams.shape.key },
});
const notFoundResponse = errorResponse("`not_found`: the key is absent or expired");
const mismatchResponse = errorResponse(
  "`version_mismatch`: `If-Match` / `If-None-Match` failed; `details.currentVersion` (0 when absent)",
);

/** The 413 of a body (`what`), or of an answer whose values would pass one answer's budget (`field`). */
const readTooLargeResponse = (what: string, field: string) =>
  errorResponse(
    `${what}, or values read coming to over ${PAGE_BYTES / 1024 / 1024} MiB of JSON text (\`details.field\`: ${field})`,
  );

/** The version is also the `ETag`, quoted. */
const versioned = ({ version }: { version: number }) => ({ ETag: `"${version}"` });

type Conditions = z.output<typeof ConditionalHeaders>;

/** RPC callers pass `{ ifMatch, ifNoneMatch }`, read as the `If-Match` / `If-None-Match` headers. */
const preconditionOverRpc = Precondition.transform(
  (pre): Conditions => ({ "if-match": pre.ifMatch, "if-none-match": pre.ifNoneMatch }),
);

function precondition(headers: Conditions) {
  return { ifMatch: headers["if-match"], ifNoneMatch: headers["if-none-match"] };
}

/**
 * Opens a subscription, relayed through the Worker; a caller cooling down after a socket closed for
 * bad messages is refused before any socket is made. Without `Upgrade: websocket` the path reads
 * the key named `subscribe`.
 */
async function subscribe(c: Context<AppEnv>, namespace: string, query: z.output<typeof SubscribeQuery>) {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    await withinRateLimit(c);
    const entry = unwrap(await stateObject(c.env, namespace).get("subscribe"));
    return c.json(entry, 200, versioned(entry));
  }
  const admission = await admitSocket(c, watcherRules.route, namespace);
  const res = await openSubscription(c.env, namespace, query, admission);
  if (!res.webSocket) throw new ApiError("internal", "the state object refused the subscription");
  return res;
}

/** The values a transaction's puts would store, both branches, as the object checks them. */
function* txnValues(body: unknown): Generator<FieldValue> {
  for (const branch of ["success", "failure"]) {
    for (const [i, op] of items(member(body, branch)).entries()) {
      if (member(op, "op") === "put") yield [`${branch}.${i}.value`, member(op, "value")];
    }
  }
}

/** The state operations: routes at `/v1/state`, methods of `env.SWITCHYARD.state()`. */
export const stateOperations = {
  list: state.read("listStateKeys", "GET /{namespace}", {
    summary: "List keys by prefix",
    description:
      "Live keys in key order (UTF-8 byte order), `limit` per page; `cursor` is null on the last page.",
    query: ListQuery,
    responses: { 200: jsonResponse(ListPage, "A page of keys") },
    call: (env, { params, query }) => stateObject(env, params.namespace).list(query),
  }),

  txn: state.write("stateTxn", "POST /{namespace}/txn", {
    catalog: true,
    summary: "Multi-key transaction (etcd-style)",
    description:
      "If every `compare` holds (a key's `version`, 0 = absent, with `==`, `!=`, `<`, `>`; or its `value` with `==`, `!=`), " +
      "the `success` operations run, else the `failure` ones: `put`, `delete`, `get`, in order, each seeing the earlier " +
      "ones, atomically. Every write takes the next version. At most 128 compares and 128 operations per branch. " +
      "An addition to the contract.",
    body: TxnRequest,
    responses: {
      200: jsonResponse(TxnResult, "Which branch ran and its results"),
      413: readTooLargeResponse(
        "A value over 256 KiB (`details.field` names it) or a body over 1 MiB",
        "the branch that ran",
      ),
    },
    oversized: (body) => firstOversized(txnValues(body)),
    call: (env, { params, body }) => stateObject(env, params.namespace).txn(body),
  }),

  read: state.read("readStateKeys", "POST /{namespace}/read", {
    summary: "Read up to 128 keys at one version",
    description:
      "Each key's value and version as of one namespace version, which the answer gives: a watch from that " +
      "version (`fromVersion`) misses no later change. An absent or expired key answers only `version: 0`. " +
      '`{"keys": []}` reads the namespace\'s version alone. Needs only `read`; writes nothing. An addition to the contract.',
    body: ReadRequest,
    responses: {
      200: jsonResponse(ReadResult, "The keys in the order asked, and the version they were read at"),
      413: readTooLargeResponse("A body over 1 MiB", "`keys`"),
    },
    call: (env, { params, body }) => stateObject(env, params.namespace).readKeys(body),
  }),

  watch: state.read.upgrade("subscribeState", "GET /{namespace}/subscribe", {
    summary: "Watch changes over a WebSocket",
    description:
      'With `Upgrade: websocket` (auth may be `?token=`): one message per change, `{"type":"change","op":"set"|"delete"|"expire","key","value"?,"version"}`, ' +
      "in version order with no gaps. `fromVersion` replays the retained changes after that version first; when they are " +
      'gone the first message is `{"type":"reset","version"}` and the client should re-list. The socket is one-way: each client message is answered with an error, and after 10 the socket is closed with `1008` (after a second such close, `429` for a cool-down). ' +
      "Without `Upgrade` this path reads the key named `subscribe`.",
    query: SubscribeQuery,
    responses: {},
    upgrade: (c, { params, query }) => subscribe(c, params.namespace, query),
    rpc: watch,
  }),

  increment: state.write("incrementStateKey", "POST /{namespace}/{key}/increment", {
    catalog: true,
    summary: "Add to a number atomically",
    description:
      "An absent key counts from 0. Without `ttlMs` the key keeps its expiry; with it, the expiry moves.",
    body: optionalBody(IncrementRequest),
    responses: {
      200: versionedResponse(IncrementResult, "The new value"),
      409: errorResponse("`not_a_number`: the key holds something else, or the sum is not finite"),
    },
    call: (env, { params, body }) => stateObject(env, params.namespace).increment(params.key, body),
    responseHeaders: versioned,
  }),

  get: state.read("getStateKey", "GET /{namespace}/{key}", {
    summary: "Read a key",
    description: 'The value with its version; the version is also the `ETag` (`"<version>"`).',
    responses: { 200: versionedResponse(StateEntry, "The entry"), 404: notFoundResponse },
    call: (env, { params }) => stateObject(env, params.namespace).get(params.key),
    responseHeaders: versioned,
  }),

  put: state.write("putStateKey", "PUT /{namespace}/{key}", {
    catalog: true,
    summary: "Write a key",
    description:
      "Takes the namespace's next version. `If-Match` makes it compare-and-set, `If-None-Match: *` create-only. " +
      "Without `ttlMs` the key does not expire (an earlier TTL is cleared).",
    headers: ConditionalHeaders,
    body: PutRequest,
    responses: { 200: versionedResponse(PutResult, "Written"), 412: mismatchResponse },
    rpcHeaders: preconditionOverRpc,
    oversized: (body) => firstOversized([["value", member(body, "value")]]),
    call: (env, { params, body, headers }) =>
      stateObject(env, params.namespace).put(params.key, body, precondition(headers)),
    responseHeaders: versioned,
  }),

  delete: state.write("deleteStateKey", "DELETE /{namespace}/{key}", {
    catalog: true,
    summary: "Delete a key",
    headers: ConditionalHeaders,
    responses: {
      200: jsonResponse(Deleted, "Deleted"),
      404: notFoundResponse,
      412: errorResponse("`version_mismatch`: `If-Match` failed on a present key; `details.currentVersion`"),
    },
    rpcHeaders: preconditionOverRpc,
    call: (env, { params, headers }) =>
      stateObject(env, params.namespace).delete(params.key, precondition(headers)),
  }),
};
