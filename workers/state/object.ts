/** How the Worker reaches a namespace's object; shared by the HTTP routes and the RPC target. */
import type { StateObject } from "../../durable-objects/state/object.ts";
import type { Env } from "../../shared/env.ts";
import type { SubscribeInput } from "../../shared/schemas/state.ts";
import type { Admission } from "../http/socket-admission.ts";
import { type RelayRules, relayToObject } from "../http/socket-relay.ts";

/**
 * The object's methods as the Worker calls them. The stub type maps results through the runtime's
 * serialisation types, which cannot follow the recursive JSON type; JSON values cross RPC
 * unchanged, so the methods keep their own signatures: every public method, so that a new one
 * needs no list kept here.
 */
type StateStub = Pick<StateObject, MethodNames<StateObject>>;

/** The names of `T`'s methods. */
type MethodNames<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/** The object that holds `namespace`. */
export const stateObject = (env: Env, namespace: string): StateStub =>
  env.STATE.getByName(namespace) as unknown as StateStub;

/** The answer to anything a subscriber sends (the shape of the queue consumer's bad-message answer). */
const ONE_WAY = JSON.stringify({
  type: "error",
  error: { code: "invalid_request", message: "state subscriptions are one-way: send nothing" },
});

/** Subscriptions are one-way: every client frame is a bad one, a ping too. */
export const watcherRules: RelayRules = {
  route: "state",
  classify: () => ({ bad: ONE_WAY }),
};

/**
 * Opens a subscription on the namespace's object and relays it through the Worker, so that the
 * object never receives what the client sends: the answer is a `101` whose `webSocket` carries the
 * change messages; `admission` (admitSocket) names who cools down after bad frames and what ends
 * the socket. The object trusts these parameters, so they must be validated first.
 */
export async function openSubscription(
  env: Env,
  namespace: string,
  input: SubscribeInput,
  admission: Admission,
): Promise<Response> {
  const url = new URL("https://state.internal/subscribe");
  url.searchParams.set("prefix", input.prefix);
  if (input.fromVersion !== undefined) url.searchParams.set("fromVersion", String(input.fromVersion));
  return relayToObject(stateObject(env, namespace), url, watcherRules, admission);
}
