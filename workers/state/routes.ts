/**
 * `/v1/state/{namespace}`: thin HTTP over the state object. Keys travel URL-encoded in one path
 * segment (`a%2Fb` for `a/b`); Hono matches on the path with `%2F` still encoded and decodes
 * the parameter afterwards. `subscribe` and `txn` are fixed segments registered before the key
 * routes; a GET on `subscribe` without `Upgrade: websocket` and any other method on either name
 * reach the key of that name, so every key stays addressable.
 */
import type { Context, MiddlewareHandler } from "hono";
import { ApiError, unwrap } from "../../shared/errors.ts";
import {
  commonErrors,
  errorResponse,
  jsonBody,
  jsonResponse,
  versionedResponse,
} from "../../shared/schemas/common.ts";
import {
  ConditionalHeaders,
  Deleted,
  IncrementRequest,
  IncrementResult,
  KeyParams,
  ListPage,
  ListQuery,
  NamespaceParams,
  PutRequest,
  PutResult,
  StateEntry,
  SubscribeQuery,
  TxnRequest,
  TxnResult,
} from "../../shared/schemas/state.ts";
import { operation } from "../http/operation.ts";
import { type AppEnv, createRouter } from "../http/router.ts";
import { openSubscription, stateObject } from "./object.ts";

const tags = ["State"];
const etag = (version: number) => ({ ETag: `"${version}"` });
const notFoundResponse = errorResponse("`not_found`: the key is absent or expired");
const mismatchResponse = errorResponse(
  "`version_mismatch`: `If-Match` / `If-None-Match` failed; `details.currentVersion` (0 when absent)",
);

const getKey = operation(
  { capability: "state", action: "read" },
  {
    operationId: "getStateKey",
    method: "get",
    path: "/{namespace}/{key}",
    tags,
    summary: "Read a key",
    description: 'The value with its version; the version is also the `ETag` (`"<version>"`).',
    request: { params: KeyParams },
    responses: { 200: versionedResponse(StateEntry, "The entry"), 404: notFoundResponse, ...commonErrors },
  },
);

const putKey = operation(
  { capability: "state", action: "write", catalog: true },
  {
    operationId: "putStateKey",
    method: "put",
    path: "/{namespace}/{key}",
    tags,
    summary: "Write a key",
    description:
      "Takes the namespace's next version. `If-Match` makes it compare-and-set, `If-None-Match: *` create-only. " +
      "Without `ttlMs` the key does not expire (an earlier TTL is cleared).",
    request: { params: KeyParams, headers: ConditionalHeaders, body: jsonBody(PutRequest) },
    responses: { 200: versionedResponse(PutResult, "Written"), 412: mismatchResponse, ...commonErrors },
  },
);

const deleteKey = operation(
  { capability: "state", action: "write", catalog: true },
  {
    operationId: "deleteStateKey",
    method: "delete",
    path: "/{namespace}/{key}",
    tags,
    summary: "Delete a key",
    request: { params: KeyParams, headers: ConditionalHeaders },
    responses: {
      200: jsonResponse(Deleted, "Deleted"),
      404: notFoundResponse,
      412: mismatchResponse,
      ...commonErrors,
    },
  },
);

const increment = operation(
  { capability: "state", action: "write", catalog: true },
  {
    operationId: "incrementStateKey",
    method: "post",
    path: "/{namespace}/{key}/increment",
    tags,
    summary: "Add to a number atomically",
    description:
      "An absent key counts from 0. Without `ttlMs` the key keeps its expiry; with it, the expiry moves.",
    request: { params: KeyParams, body: jsonBody(IncrementRequest) },
    responses: {
      200: versionedResponse(IncrementResult, "The new value"),
      409: errorResponse("`not_a_number`: the key holds something else, or the sum is not finite"),
      ...commonErrors,
    },
  },
);

const list = operation(
  { capability: "state", action: "read" },
  {
    operationId: "listStateKeys",
    method: "get",
    path: "/{namespace}",
    tags,
    summary: "List keys by prefix",
    description:
      "Live keys in key order (UTF-8 byte order), `limit` per page; `cursor` is null on the last page.",
    request: { params: NamespaceParams, query: ListQuery },
    responses: { 200: jsonResponse(ListPage, "A page of keys"), ...commonErrors },
  },
);

const subscribe = operation(
  { capability: "state", action: "read", queryToken: true },
  {
    operationId: "subscribeState",
    method: "get",
    path: "/{namespace}/subscribe",
    tags,
    summary: "Watch changes over a WebSocket",
    description:
      'With `Upgrade: websocket` (auth may be `?token=`): one message per change, `{"type":"change","op":"set"|"delete"|"expire","key","value"?,"version"}`, ' +
      "in version order with no gaps. `fromVersion` replays the retained changes after that version first; when they are " +
      'gone the first message is `{"type":"reset","version"}` and the client should re-list. Client messages are ignored. ' +
      "Without `Upgrade` this path reads the key named `subscribe`.",
    request: { params: NamespaceParams, query: SubscribeQuery },
    responses: { 101: { description: "Switching protocols: the subscription" }, ...commonErrors },
  },
);

const txn = operation(
  { capability: "state", action: "write", catalog: true },
  {
    operationId: "stateTxn",
    method: "post",
    path: "/{namespace}/txn",
    tags,
    summary: "Multi-key transaction (etcd-style)",
    description:
      "If every `compare` holds (a key's `version`, 0 = absent, with `==`, `!=`, `<`, `>`; or its `value` with `==`, `!=`), " +
      "the `success` operations run, else the `failure` ones: `put`, `delete`, `get`, in order, each seeing the earlier " +
      "ones, atomically. Every write takes the next version. At most 128 compares and 128 operations per branch. " +
      "An addition to the contract.",
    request: { params: NamespaceParams, body: jsonBody(TxnRequest) },
    responses: { 200: jsonResponse(TxnResult, "Which branch ran and its results"), ...commonErrors },
  },
);

async function readKey(c: Context<AppEnv>, namespace: string, key: string) {
  const entry = unwrap(await stateObject(c.env, namespace).get(key));
  return c.json(entry, 200, etag(entry.version));
}

/**
 * Refuses a key segment that is not valid percent-encoded UTF-8 (`%ZZ`, `%C3%28`): Hono would
 * otherwise read it as literal text and address a key the client never meant.
 */
const wellEncodedKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const segment = c.req.path.split("/")[4];
  try {
    if (segment !== undefined) decodeURIComponent(segment);
  } catch {
    throw new ApiError("invalid_request", "key: not valid percent-encoded UTF-8", { field: "key" });
  }
  await next();
};

const router = createRouter();
router.use("/:namespace/:key", wellEncodedKey);
router.use("/:namespace/:key/*", wellEncodedKey);

/** The state routes, mounted at `/v1/state`. */
export const stateRoutes = router
  .openapi(list, async (c) => {
    const { namespace } = c.req.valid("param");
    return c.json(unwrap(await stateObject(c.env, namespace).list(c.req.valid("query"))), 200);
  })
  .openapi(txn, async (c) => {
    const { namespace } = c.req.valid("param");
    return c.json(unwrap(await stateObject(c.env, namespace).txn(c.req.valid("json"))), 200);
  })
  .openapi(subscribe, async (c) => {
    const { namespace } = c.req.valid("param");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return readKey(c, namespace, "subscribe");
    const res = await openSubscription(c.env, namespace, c.req.valid("query"));
    if (!res.webSocket) throw new ApiError("internal", "the state object refused the subscription");
    return res;
  })
  .openapi(increment, async (c) => {
    const { namespace, key } = c.req.valid("param");
    const result = unwrap(await stateObject(c.env, namespace).increment(key, c.req.valid("json")));
    return c.json(result, 200, etag(result.version));
  })
  .openapi(getKey, async (c) => {
    const { namespace, key } = c.req.valid("param");
    return readKey(c, namespace, key);
  })
  .openapi(putKey, async (c) => {
    const { namespace, key } = c.req.valid("param");
    const h = c.req.valid("header");
    const pre = { ifMatch: h["if-match"], ifNoneMatch: h["if-none-match"] };
    const result = unwrap(await stateObject(c.env, namespace).put(key, c.req.valid("json"), pre));
    return c.json(result, 200, etag(result.version));
  })
  .openapi(deleteKey, async (c) => {
    const { namespace, key } = c.req.valid("param");
    const h = c.req.valid("header");
    const pre = { ifMatch: h["if-match"], ifNoneMatch: h["if-none-match"] };
    return c.json(unwrap(await stateObject(c.env, namespace).delete(key, pre)), 200);
  })
  // `/{namespace}/` is a key route with an empty key: the contract's 400, not a missing route.
  .on(["GET", "PUT", "DELETE"], "/:namespace/", () => {
    throw new ApiError("invalid_request", "key: must not be empty", { field: "key" });
  });
