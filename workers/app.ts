/** The HTTP app: health, OpenAPI, docs, auth, body handling, errors, and the route groups. */
import { breakerRoutes } from "./breaker/routes.ts";
import { busRoutes } from "./bus/routes.ts";
import { catalogRoutes } from "./catalog/routes.ts";
import { dbRoutes } from "./db/routes.ts";
import { notFound, onError } from "./http/errors.ts";
import { cors } from "./http/origin.ts";
import { createRouter } from "./http/router.ts";
import { lockRoutes } from "./lock/routes.ts";
import { addMetaRoutes } from "./meta/routes.ts";
import { queueRoutes } from "./queue/routes.ts";
import { stateRoutes } from "./state/routes.ts";

export function createApp() {
  const app = createRouter();
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  // Each route's own guard (http/operation.ts) checks origin, token, scopes and body.
  app.use("/v1/*", cors());
  app.route("/v1/locks", lockRoutes);
  app.route("/v1/breakers", breakerRoutes);
  app.route("/v1/topics", busRoutes);
  app.route("/v1/state", stateRoutes);
  app.route("/v1/db", dbRoutes);
  app.route("/v1/queues", queueRoutes);
  // `GET /v1/<capability>` exactly: beside, not inside, the `/v1/<capability>/{name}` groups.
  app.route("/v1", catalogRoutes);

  addMetaRoutes(app);
  return app;
}

export const app = createApp();
