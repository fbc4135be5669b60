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
import { mirrorRoutes } from "./mirror/routes.ts";
import { queueRoutes } from "./queue/routes.ts";
import { stateRoutes } from "./state/routes.ts";
import { TABLES } from "./tables.ts";
import { tokenRoutes } from "./tokens/routes.ts";

export function createApp() {
  const app = createRouter();
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  // Each route's own guard (http/operation.ts) checks origin, token, scopes and body.
  app.use("/v1/*", cors());
  app.route(TABLES.locks.mount, lockRoutes);
  app.route(TABLES.breakers.mount, breakerRoutes);
  app.route(TABLES.topics.mount, busRoutes);
  app.route(TABLES.state.mount, stateRoutes);
  app.route(TABLES.db.mount, dbRoutes);
  app.route(TABLES.queues.mount, queueRoutes);
  app.route(TABLES.tokens.mount, tokenRoutes);
  // `GET /v1/<capability>` exactly: beside, not inside, the `/v1/<capability>/{name}` groups.
  app.route(TABLES.catalog.mount, catalogRoutes);
  app.route(TABLES.mirrors.mount, mirrorRoutes);

  addMetaRoutes(app);
  return app;
}

export const app = createApp();
