/** The state routes, mounted at `/v1/state`: the declared operations, with two rules on keys. */
import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";
import { routesOf } from "../declare/routes.ts";
import { identifyCaller } from "../http/operation.ts";
import { type AppEnv, createRouter } from "../http/router.ts";
import { stateOperations } from "./operations.ts";

/**
 * Refuses a key segment that is not valid percent-encoded UTF-8 (`%ZZ`, `%C3%28`): Hono would
 * otherwise read it as literal text and address a key the client never meant.
 */
const wellEncodedKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const segment = c.req.path.split("/")[4];
  try {
    if (segment !== undefined) decodeURIComponent(segment);
  } catch {
    // A bad name in the path is a 400 after the origin and token checks (the contract's order).
    await identifyCaller(c);
    throw new ApiError("invalid_request", "key: not valid percent-encoded UTF-8", { field: "key" });
  }
  await next();
};

const router = createRouter();
router.use("/:namespace/:key", wellEncodedKey);
router.use("/:namespace/:key/*", wellEncodedKey);

export const stateRoutes = routesOf(stateOperations, router)
  // `/{namespace}/` is a key route with an empty key: the contract's 400, not a missing route.
  .on(["GET", "PUT", "DELETE"], "/:namespace/", async (c) => {
    await identifyCaller(c);
    throw new ApiError("invalid_request", "key: must not be empty", { field: "key" });
  });
