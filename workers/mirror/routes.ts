/** The mirror routes, mounted at `/v1/mirrors`. */
import { routesOf } from "../declare/routes.ts";
import { mirrorOperations } from "./operations.ts";

export const mirrorRoutes = routesOf(mirrorOperations);
