/**
 * Every operation table by the path the Worker mounts its routes at (workers/app.ts): the client
 * tables are checked against it, and {@link call} types an answer's body by it.
 */
import { breakerOperations } from "../../workers/breaker/operations.ts";
import { busOperations } from "../../workers/bus/operations.ts";
import { catalogOperations } from "../../workers/catalog/routes.ts";
import { dbOperations } from "../../workers/db/operations.ts";
import { lockOperations } from "../../workers/lock/operations.ts";
import { mirrorOperations } from "../../workers/mirror/operations.ts";
import { queueOperations } from "../../workers/queue/operations.ts";
import { stateOperations } from "../../workers/state/operations.ts";
import { tokenOperations } from "../../workers/tokens/routes.ts";

export const MOUNTED = {
  "/v1/locks": lockOperations,
  "/v1/breakers": breakerOperations,
  "/v1/topics": busOperations,
  "/v1/state": stateOperations,
  "/v1/db": dbOperations,
  "/v1/queues": queueOperations,
  "/v1/tokens": tokenOperations,
  "/v1": catalogOperations,
  "/v1/mirrors": mirrorOperations,
} as const;
