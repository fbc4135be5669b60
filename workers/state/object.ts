/** How the Worker reaches a namespace's object; shared by the HTTP routes and the RPC target. */
import type { StateObject } from "../../durable-objects/state/object.ts";
import type { Env } from "../../shared/env.ts";
import type { SubscribeInput } from "../../shared/schemas/state.ts";

/**
 * The object's methods as the Worker calls them. The stub type maps results through the runtime's
 * serialisation types, which cannot follow the recursive JSON type; JSON values cross RPC
 * unchanged, so the methods keep their own signatures.
 */
type StateStub = Pick<
  StateObject,
  | "get"
  | "put"
  | "delete"
  | "increment"
  | "list"
  | "txn"
  | "fetch"
  | "putMirror"
  | "getMirror"
  | "deleteMirror"
>;

/** The object that holds `namespace`. */
export const stateObject = (env: Env, namespace: string): StateStub =>
  env.STATE.getByName(namespace) as unknown as StateStub;

/**
 * Opens a subscription on the namespace's object: the answer is a `101` whose `webSocket` carries
 * the change messages. The object trusts these parameters, so they must be validated first.
 */
export function openSubscription(env: Env, namespace: string, input: SubscribeInput): Promise<Response> {
  const url = new URL("https://state.internal/subscribe");
  url.searchParams.set("prefix", input.prefix);
  if (input.fromVersion !== undefined) url.searchParams.set("fromVersion", String(input.fromVersion));
  return stateObject(env, namespace).fetch(new Request(url, { headers: { Upgrade: "websocket" } }));
}
