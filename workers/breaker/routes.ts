/** The circuit breaker routes, mounted at `/v1/breakers`. */
import { routesOf } from "../declare/routes.ts";
import { breakerOperations } from "./operations.ts";

export const breakerRoutes = routesOf(breakerOperations);
