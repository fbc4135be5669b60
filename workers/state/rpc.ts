/** The state operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import type { StateApi, StateWatch, WatchOptions } from "../../shared/client/state.ts";
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import {
  type Deleted,
  IncrementRequest,
  type IncrementResult,
  KeyParams,
  type ListPage,
  ListQuery,
  Precondition,
  PutRequest,
  type PutResult,
  type StateEntry,
  type StateMessage,
  SubscribeQuery,
  TxnRequest,
  type TxnResult,
} from "../../shared/schemas/state.ts";
import { type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";
import { openSubscription, stateObject } from "./object.ts";

/** Undefined when namespace and key are valid, else the `invalid_request` failure. */
function invalidKey<T>(namespace: string, key: string): Result<T> | undefined {
  const parsed = parseInput(KeyParams, { namespace, key }, "param");
  return parsed.ok ? undefined : parsed;
}

/**
 * Keeps a function received over RPC callable after the call that brought it returns (RPC
 * disposes parameter stubs then); a local function is returned as is.
 */
function retain<F extends (...args: never[]) => unknown>(fn: F): F {
  const stub = fn as F & { dup?: () => F };
  return typeof stub.dup === "function" ? stub.dup() : fn;
}

/** A subscription held for an RPC caller; `close()` ends it. */
class StateWatchTarget extends RpcTarget implements StateWatch {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    super();
    this.#socket = socket;
  }

  close(): void {
    try {
      this.#socket.close(1000, "closed by the client");
    } catch {
      // Already closed by the other side.
    }
  }
}

/**
 * `(await env.SWITCHYARD.state()).put("sessions", "u/1", { value: 1 })` from a Worker with a
 * service binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
export class StateRpc extends RpcTarget implements StateApi {
  readonly #env: Env;
  /** Registers the name of a successful write in the catalog. */
  readonly #noted: NoteIfOk;

  constructor(env: Env, ctx?: Background) {
    super();
    this.#env = env;
    this.#noted = notesFor(env, ctx, "state");
  }

  /** As `GET /v1/state/{namespace}/{key}`. */
  async get(namespace: string, key: string): Promise<Result<StateEntry>> {
    return invalidKey(namespace, key) ?? stateObject(this.#env, namespace).get(key);
  }

  /** As `PUT /v1/state/{namespace}/{key}`; `pre` carries `If-Match` / `If-None-Match`. */
  async put(namespace: string, key: string, input: unknown, pre: unknown = {}): Promise<Result<PutResult>> {
    const body = parseInput(PutRequest, input, "json");
    if (!body.ok) return body;
    const conditions = parseInput(Precondition, pre, "header");
    if (!conditions.ok) return conditions;
    return this.#noted(
      namespace,
      invalidKey(namespace, key) ?? stateObject(this.#env, namespace).put(key, body.value, conditions.value),
    );
  }

  /** As `DELETE /v1/state/{namespace}/{key}`. */
  async delete(namespace: string, key: string, pre: unknown = {}): Promise<Result<Deleted>> {
    const conditions = parseInput(Precondition, pre, "header");
    if (!conditions.ok) return conditions;
    return this.#noted(
      namespace,
      invalidKey(namespace, key) ?? stateObject(this.#env, namespace).delete(key, conditions.value),
    );
  }

  /** As `POST /v1/state/{namespace}/{key}/increment`. */
  async increment(namespace: string, key: string, input: unknown = {}): Promise<Result<IncrementResult>> {
    const body = parseInput(IncrementRequest, input, "json");
    if (!body.ok) return body;
    return this.#noted(
      namespace,
      invalidKey(namespace, key) ?? stateObject(this.#env, namespace).increment(key, body.value),
    );
  }

  /** As `GET /v1/state/{namespace}?prefix=&limit=&cursor=`. */
  async list(namespace: string, query: unknown = {}): Promise<Result<ListPage>> {
    const parsed = parseInput(ListQuery, query, "query");
    if (!parsed.ok) return parsed;
    return validName(namespace) ?? stateObject(this.#env, namespace).list(parsed.value);
  }

  /** As `POST /v1/state/{namespace}/txn`. */
  async txn(namespace: string, input: unknown): Promise<Result<TxnResult>> {
    const body = parseInput(TxnRequest, input, "json");
    if (!body.ok) return body;
    return this.#noted(namespace, validName(namespace) ?? stateObject(this.#env, namespace).txn(body.value));
  }

  /**
   * As `GET /v1/state/{namespace}/subscribe`: `onMessage` receives every message, in order, until
   * `close()` on the returned watch; `onClose` runs once the subscription has ended either way.
   */
  async watch(
    namespace: string,
    options: WatchOptions,
    onMessage: (message: StateMessage) => void,
    onClose?: () => void,
  ): Promise<Result<StateWatch>> {
    const query = parseInput(SubscribeQuery, options, "query");
    if (!query.ok) return query;
    const invalid = validName<StateWatch>(namespace);
    if (invalid) return invalid;
    const socket = (await openSubscription(this.#env, namespace, query.value)).webSocket;
    if (!socket) return fail("unavailable", "the state object refused the subscription");
    const deliver = retain(onMessage);
    const ended = onClose && retain(onClose);
    socket.accept();
    socket.addEventListener("message", (event) => deliver(JSON.parse(String(event.data)) as StateMessage));
    socket.addEventListener("close", () => ended?.());
    return ok(new StateWatchTarget(socket));
  }
}
