/** The Worker's entry: the HTTP app as the default export, plus every class the runtime needs. */
import type { Env } from "../shared/env.ts";
import { app } from "./app.ts";
// Checks UPSTASH_REDIS_REST_URL when the Worker loads (DB_NODES is checked by workers/db/config.ts).
import "./redis-config.ts";

export { CircuitBreakerObject } from "../durable-objects/breaker/object.ts";
export { TopicObject } from "../durable-objects/bus/object.ts";
export { CatalogObject } from "../durable-objects/catalog/object.ts";
export { DbClusterObject } from "../durable-objects/db-cluster/object.ts";
export { LockObject } from "../durable-objects/lock/object.ts";
export { QueueObject } from "../durable-objects/queue/object.ts";
export { StateObject } from "../durable-objects/state/object.ts";
export { TokenRateLimitObject } from "../durable-objects/token-rate-limit/object.ts";
export { TokenRegistryObject } from "../durable-objects/token-registry/object.ts";
export { SwitchyardRpc } from "./rpc.ts";

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
