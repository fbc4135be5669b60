/** The event bus routes, mounted at `/v1/topics`. */
import { routesOf } from "../declare/routes.ts";
import { busOperations } from "./operations.ts";

export const busRoutes = routesOf(busOperations);
