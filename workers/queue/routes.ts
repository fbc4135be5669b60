/** The queue routes, mounted at `/v1/queues`: the declared operations. */
import { routesOf } from "../declare/routes.ts";
import { queueOperations } from "./operations.ts";

export const queueRoutes = routesOf(queueOperations);
