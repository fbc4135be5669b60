/** `watch` over RPC: a state subscription relayed to the caller's callbacks. */
import { RpcTarget } from "cloudflare:workers";
import type { CloseInfo } from "../../shared/client/socket-end.ts";
import type { StateWatch, WatchOptions } from "../../shared/client/state.ts";
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import { type StateMessage, SubscribeQuery } from "../../shared/schemas/state.ts";
import type { CallContext } from "../declare/table.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";
import { openSubscription, watcherRules } from "./object.ts";

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
 * As `GET /v1/state/{namespace}/subscribe`: `onMessage` receives every message, in order, until
 * `close()` on the returned watch; `onClose` runs once the subscription has ended either way.
 */
export async function watch(
  this: CallContext | undefined,
  env: Env,
  namespace: string,
  options: WatchOptions,
  onMessage: (message: StateMessage) => void,
  onClose?: (close: CloseInfo) => void,
): Promise<Result<StateWatch>> {
  const invalid = validName<StateWatch>(namespace);
  if (invalid) return invalid;
  const query = parseInput(SubscribeQuery, options, "query");
  if (!query.ok) return query;
  // The callbacks never send on the socket, so this caller never cools down; a scoped token's
  // target checks the token while the watch stays open, as the relay does for a client's socket.
  const admission = { caller: `rpc ${watcherRules.route} ${namespace}`, lapsed: this?.lapsed };
  const socket = (await openSubscription(env, namespace, query.value, admission)).webSocket;
  if (!socket) return fail("unavailable", "the state object refused the subscription");
  const deliver = retain(onMessage);
  const ended = onClose && retain(onClose);
  socket.accept();
  socket.addEventListener("message", (event) => deliver(JSON.parse(String(event.data)) as StateMessage));
  socket.addEventListener("close", ({ code, reason }) => ended?.({ code, reason }));
  return ok(new StateWatchTarget(socket));
}
