/**
 * The state operations as both transports carry them: HTTP ({@link httpState}, subscriptions over
 * a socket connector) and a service binding ({@link rpcState}).
 */
import { ApiError, fail, ok, type Result } from "../../errors.ts";
import type { PreconditionInput, StateMessage, TxnOpRequest, TxnRequestInput } from "../../schemas/state.ts";
import { STATE_CALLS as DECLARED_STATE_CALLS, type StateCalls } from "../calls.ts";
import {
  type ClientSocket,
  type HttpTransport,
  openWebSocket,
  type UpgradeRequest,
  upgradeThrough,
} from "../http.ts";
import type { CloseInfo } from "../socket-end.ts";
import { bindingTransport, type CallTable, callsOver, httpTransport, queryString } from "../transport.ts";

/** Where a subscription starts: keys under `prefix`, replaying changes after `fromVersion`. */
export interface WatchOptions {
  prefix?: string;
  fromVersion?: number;
}

/** A running subscription. */
export interface StateWatch {
  close(): void;
}

export type { TxnOpRequest, TxnRequestInput };

/** The state operations, as both transports offer them: the state table's calls (../calls.ts), and `watch`. */
export interface StateApi extends StateCalls {
  /** Delivers every message of a subscription to `onMessage`; `onClose` runs when it ends, with the close's code and reason. */
  watch(
    namespace: string,
    options: WatchOptions,
    onMessage: (message: StateMessage) => void,
    onClose?: (close: CloseInfo) => void,
  ): Promise<Result<StateWatch>>;
}

/** What a socket connector calls back with. */
export interface SocketHandlers {
  onMessage(text: string): void;
  onClose(close: CloseInfo): void;
}

/** Opens a subscription socket to `path` (the subscribe route with its query) on the server. */
export type SocketConnector = (path: string, handlers: SocketHandlers) => Promise<Result<StateWatch>>;

/** Where Switchyard answers and the token it accepts. */
export interface SocketOptions {
  baseUrl: string;
  token: string;
}

/**
 * A subscription on the socket `opening` resolves to, its frames and close handed to `handlers`;
 * a refused upgrade is the refusal's failure (`unauthorized`, `forbidden` end a watch for good).
 */
async function connected(
  opening: Promise<ClientSocket>,
  handlers: SocketHandlers,
): Promise<Result<StateWatch>> {
  let ws: ClientSocket;
  try {
    ws = await opening;
  } catch (err) {
    const refusal = err instanceof ApiError ? err : new ApiError("unavailable", String(err));
    return fail(refusal.code, refusal.message);
  }
  ws.addEventListener("message", (event) => handlers.onMessage(String(event.data)));
  ws.addEventListener("close", ({ code, reason }) => handlers.onClose({ code, reason }));
  return ok({ close: () => ws.close(1000) });
}

/**
 * Connects with the global `WebSocket` (Node 22, browsers, Workers), passing the token as
 * `?token=` since a WebSocket handshake cannot carry headers there.
 */
export function webSocketConnector(options: SocketOptions): SocketConnector {
  return (path, handlers) =>
    connected(openWebSocket(new URL(path, options.baseUrl), options.token), handlers);
}

/**
 * Connects through a `fetch` that answers upgrades with a `webSocket` (Workers' `fetch`, or a
 * service binding's to Switchyard's default entrypoint), sending the token as a header.
 */
export function fetchConnector(
  options: SocketOptions & { fetch: (request: Request) => Promise<Response> },
): SocketConnector {
  const request: UpgradeRequest = (url, headers) => options.fetch(new Request(url, { headers }));
  return (path, handlers) =>
    connected(upgradeThrough(request, new URL(path, options.baseUrl), options.token), handlers);
}

/** `If-Match` / `If-None-Match` headers for a precondition. */
function conditionHeaders(pre: PreconditionInput = {}): Record<string, string> {
  const etag = (v: number | "*") => (v === "*" ? "*" : `"${v}"`);
  const headers: Record<string, string> = {};
  if (pre.ifMatch !== undefined) headers["if-match"] = etag(pre.ifMatch);
  if (pre.ifNoneMatch !== undefined) headers["if-none-match"] = etag(pre.ifNoneMatch);
  return headers;
}

/** The state calls (../calls.ts); over HTTP, a precondition is sent as `If-Match` / `If-None-Match`. */
export const STATE_CALLS = {
  ...DECLARED_STATE_CALLS,
  put: { ...DECLARED_STATE_CALLS.put, headers: conditionHeaders },
  delete: { ...DECLARED_STATE_CALLS.delete, headers: conditionHeaders },
} as const satisfies CallTable;

/** State operations over HTTP; subscriptions open sockets with `connect`. */
export function httpState(http: HttpTransport, connect: SocketConnector): StateApi {
  return {
    ...callsOver<Omit<StateApi, "watch">>(httpTransport(http), "state", STATE_CALLS),
    watch: async (ns, options, onMessage, onClose) => {
      const query = queryString({ prefix: options.prefix || undefined, fromVersion: options.fromVersion });
      return connect(`/v1/state/${encodeURIComponent(ns)}/subscribe${query || "?"}`, {
        onMessage: (text) => onMessage(JSON.parse(text) as StateMessage),
        onClose: (close) => onClose?.(close),
      });
    },
  };
}

/**
 * A service binding to Switchyard's `SwitchyardRpc` entrypoint. Its `state()` is a `StateRpc`,
 * which implements {@link StateApi}; the binding's own stub type maps every result through the
 * runtime's serialisation types, which cannot follow the recursive JSON type, so it is not
 * spelled out here.
 */
export interface StateRpcBinding {
  state(): object;
}

/**
 * State operations over a service binding: no HTTP, no JSON, no auth header. Subscriptions are
 * relayed by the entrypoint and arrive as calls of `onMessage`.
 * @example const sessions = new StateClient(rpcState(env.SWITCHYARD), "sessions");
 */
export function rpcState(binding: StateRpcBinding): StateApi {
  const state = () => binding.state() as StateApi;
  return {
    ...callsOver<Omit<StateApi, "watch">>(bindingTransport(binding), "state", STATE_CALLS),
    watch: (ns, options, onMessage, onClose) => state().watch(ns, options, onMessage, onClose),
  };
}
