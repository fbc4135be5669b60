/** The lock operations shared by the HTTP routes and the RPC entrypoint. */
import type { Env } from "../../shared/env.ts";

/** The object that holds lock `name`. */
export function lockObject(env: Env, name: string) {
  return env.LOCKS.getByName(name);
}
