/** The HTTP app: health, OpenAPI, docs, auth, body handling, errors, and the route groups. */
import { Scalar } from "@scalar/hono-api-reference";
import pkg from "../package.json" with { type: "json" };
import { breakerRoutes } from "./breaker/routes.ts";
import { busRoutes } from "./bus/routes.ts";
import { dbRoutes } from "./db/routes.ts";
import { bearerAuth } from "./http/auth.ts";
import { notFound, onError } from "./http/errors.ts";
import { jsonBody } from "./http/json-body.ts";
import { createRouter } from "./http/router.ts";
import { lockRoutes } from "./lock/routes.ts";
import { queueRoutes } from "./queue/routes.ts";
import { stateRoutes } from "./state/routes.ts";

/** The version `/health` and the OpenAPI document report. */
export const VERSION = pkg.version;

export function createApp() {
  const app = createRouter();
  app.onError(onError);
  app.notFound(notFound(() => app.routes));

  app.get("/health", (c) => c.json({ ok: true, version: VERSION }));

  app.use("/v1/*", bearerAuth(), jsonBody());
  app.route("/v1/locks", lockRoutes);
  app.route("/v1/breakers", breakerRoutes);
  app.route("/v1/topics", busRoutes);
  app.route("/v1/state", stateRoutes);
  app.route("/v1/db", dbRoutes);
  app.route("/v1/queues", queueRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A token from API_TOKENS (local development: switchyard-dev-token)",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Switchyard",
      version: VERSION,
      description: "Locks, task queues, shared state, an event bus and circuit breakers on Durable Objects.",
    },
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Switchyard API" }));
  return app;
}

export const app = createApp();
