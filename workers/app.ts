/** The HTTP app: health, OpenAPI, docs, auth, body handling, errors, and the route groups. */
import { breakerRoutes } from "./breaker/routes.ts";
import { busRoutes } from "./bus/routes.ts";
import { dbRoutes } from "./db/routes.ts";
import { bearerAuth } from "./http/auth.ts";
import { notFound, onError } from "./http/errors.ts";
import { jsonBody } from "./http/json-body.ts";
import { createRouter } from "./http/router.ts";
import { lockRoutes } from "./lock/routes.ts";
import { addMetaRoutes } from "./meta/routes.ts";
import { queueRoutes } from "./queue/routes.ts";
import { stateRoutes } from "./state/routes.ts";

export function createApp() {
  const app = createRouter();
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  app.use("/v1/*", bearerAuth(), jsonBody());
  app.route("/v1/locks", lockRoutes);
  app.route("/v1/breakers", breakerRoutes);
  app.route("/v1/topics", busRoutes);
  app.route("/v1/state", stateRoutes);
  app.route("/v1/db", dbRoutes);
  app.route("/v1/queues", queueRoutes);

  addMetaRoutes(app);
  return app;
}

export const app = createApp();
