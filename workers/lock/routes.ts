/** The lock routes, mounted at `/v1/locks`. */
import { routesOf } from "../declare/routes.ts";
import { lockOperations } from "./operations.ts";

export const lockRoutes = routesOf(lockOperations);
