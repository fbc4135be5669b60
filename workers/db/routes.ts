/** The database routes, mounted at `/v1/db`. */
import { routesOf } from "../declare/routes.ts";
import { dbOperations } from "./operations.ts";

export const dbRoutes = routesOf(dbOperations);
