/** The Worker's bindings and variables: the one hand-kept place where they are typed. */
import type { LockObject } from "../durable-objects/lock.ts";
import type { QueueVars } from "../durable-objects/queue/config.ts";
import type { QueueObject } from "../durable-objects/queue.ts";

export interface Env extends QueueVars {
  /** Comma-separated bearer tokens. Unset: only the documented dev token, and only on loopback. */
  API_TOKENS?: string;
  LOCKS: DurableObjectNamespace<LockObject>;
  QUEUES: DurableObjectNamespace<QueueObject>;
}
