/**
 * Every operation table, by the name of its `SwitchyardRpc` getter and client
 * (`env.SWITCHYARD.locks()`), with the path its routes are mounted at (by workers/app.ts).
 * The client's calls are generated from it (scripts/client-calls.ts), and the Worker tests find
 * a route's declared answer through it.
 */
import { breakerOperations } from "./breaker/operations.ts";
import { busOperations } from "./bus/operations.ts";
import { catalogOperations } from "./catalog/routes.ts";
import { dbOperations } from "./db/operations.ts";
import { lockOperations } from "./lock/operations.ts";
import { mirrorOperations } from "./mirror/operations.ts";
import { queueOperations } from "./queue/operations.ts";
import { stateOperations } from "./state/operations.ts";
import { tokenOperations } from "./tokens/routes.ts";

export const TABLES = {
  locks: { mount: "/v1/locks", operations: lockOperations },
  breakers: { mount: "/v1/breakers", operations: breakerOperations },
  topics: { mount: "/v1/topics", operations: busOperations },
  state: { mount: "/v1/state", operations: stateOperations },
  db: { mount: "/v1/db", operations: dbOperations },
  queues: { mount: "/v1/queues", operations: queueOperations },
  tokens: { mount: "/v1/tokens", operations: tokenOperations },
  catalog: { mount: "/v1", operations: catalogOperations },
  mirrors: { mount: "/v1/mirrors", operations: mirrorOperations },
} as const;
