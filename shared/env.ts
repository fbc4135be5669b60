/** The Worker's bindings and variables: the one hand-kept place where they are typed. */
import type { LockObject } from "../durable-objects/lock.ts";
import type { StateObject } from "../durable-objects/state.ts";

export interface Env {
  /** Comma-separated bearer tokens. Unset: only the documented dev token, and only on loopback. */
  API_TOKENS?: string;
  LOCKS: DurableObjectNamespace<LockObject>;
  STATE: DurableObjectNamespace<StateObject>;
}
