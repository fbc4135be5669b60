/** The Worker's bindings and variables: the one hand-kept place where they are typed. */
import type { CircuitBreakerObject } from "../durable-objects/circuit-breaker.ts";
import type { LockObject } from "../durable-objects/lock.ts";

export interface Env {
  /** Comma-separated bearer tokens. Unset: only the documented dev token, and only on loopback. */
  API_TOKENS?: string;
  LOCKS: DurableObjectNamespace<LockObject>;
  BREAKERS: DurableObjectNamespace<CircuitBreakerObject>;
}
