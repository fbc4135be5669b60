/** The Worker's bindings and variables: the one hand-kept place where they are typed. */

import type { CircuitBreakerObject } from "../durable-objects/breaker/object.ts";
import type { TopicObject } from "../durable-objects/bus/object.ts";
import type { CatalogObject } from "../durable-objects/catalog/object.ts";
import type { DbClusterObject } from "../durable-objects/db-cluster/object.ts";
import type { LockObject } from "../durable-objects/lock/object.ts";
import type { QueueVars } from "../durable-objects/queue/config.ts";
import type { QueueObject } from "../durable-objects/queue/object.ts";
import type { StateObject } from "../durable-objects/state/object.ts";
import type { TokenRateLimitObject } from "../durable-objects/token-rate-limit/object.ts";
import type { TokenRegistryObject } from "../durable-objects/token-registry/object.ts";
import type { RedisVars } from "./redis/config.ts";

export interface Env extends QueueVars, RedisVars {
  /** Comma-separated admin bearer tokens. Unset or empty: no admin token (see ALLOW_DEV_TOKEN). */
  API_TOKENS?: string;
  /** "true" accepts the documented dev token as admin: set by `npm run dev` and the tests only. */
  ALLOW_DEV_TOKEN?: string;
  /** Comma-separated origins whose pages may call the API (CORS); others are refused with 403. */
  ALLOWED_ORIGINS?: string;
  /** Comma-separated HMAC keys for scoped tokens: the first signs, every one verifies. */
  TOKEN_SIGNING_KEYS?: string;
  LOCKS: DurableObjectNamespace<LockObject>;
  BREAKERS: DurableObjectNamespace<CircuitBreakerObject>;
  TOPICS: DurableObjectNamespace<TopicObject>;
  /** "true" also allows webhooks to loopback addresses over http: local development and tests only. */
  ALLOW_INSECURE_WEBHOOKS?: string;
  STATE: DurableObjectNamespace<StateObject>;
  DB_CLUSTER: DurableObjectNamespace<DbClusterObject>;
  /** JSON: the Postgres nodes (name, region, Hyperdrive binding, initial role); see docs/db.md. */
  DB_NODES?: string;
  /** JSON: health-check and failover settings; see docs/db.md. */
  DB_HA?: string;
  QUEUES: DurableObjectNamespace<QueueObject>;
  /** The catalog of names: one object per capability (`getByName("queues")`). */
  CATALOG: DurableObjectNamespace<CatalogObject>;
  /** The one registry of minted scoped tokens and their revocations. */
  TOKENS: DurableObjectNamespace<TokenRegistryObject>;
  /** One rate-limit counter per scoped token that has a `rateLimit`. */
  TOKEN_RATE_LIMITS: DurableObjectNamespace<TokenRateLimitObject>;
}
