/** The routes about the service itself: health, the OpenAPI document, the rendered reference. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import pkg from "../../package.json" with { type: "json" };
import { jsonResponse } from "../../shared/schemas/common.ts";
import type { AppEnv } from "../http/router.ts";

/** The version `/health` and the OpenAPI document report. */
export const VERSION = pkg.version;

const tags = ["Service"];

const Health = z
  .object({ ok: z.literal(true), version: z.string().openapi({ example: VERSION }) })
  .openapi("Health");

const health = createRoute({
  operationId: "getHealth",
  method: "get",
  security: [],
  path: "/health",
  tags,
  summary: "Liveness and version (no auth)",
  responses: { 200: jsonResponse(Health, "Up") },
});

const openapi = createRoute({
  operationId: "getOpenApiDocument",
  method: "get",
  security: [],
  path: "/openapi.json",
  tags,
  summary: "This document: OpenAPI 3.1 (no auth)",
  responses: {
    200: { description: "The OpenAPI document", content: { "application/json": { schema: {} } } },
  },
});

const docs = createRoute({
  operationId: "getApiReference",
  method: "get",
  security: [],
  path: "/docs",
  tags,
  summary: "A rendered API reference of this document (no auth)",
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } },
  },
});

/**
 * Adds health, the OpenAPI document (of every route registered by then or later) and the docs
 * page to `app`; the document lists all three too.
 */
export function addMetaRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(health, (c) => c.json({ ok: true as const, version: VERSION }, 200));
  app.openAPIRegistry.registerPath(openapi);
  app.openAPIRegistry.registerPath(docs);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "An admin token from API_TOKENS, a scoped token from POST /v1/tokens, or (local development) switchyard-dev-token",
  });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    // The origin the document was fetched from: generated clients then call the same server.
    servers: [{ url: new URL(c.req.url).origin, description: "This Switchyard" }],
    info: {
      title: "Switchyard",
      version: VERSION,
      description:
        "Locks, task queues, shared state, an event bus, circuit breakers and Postgres HA on Durable Objects.",
    },
  }));
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Switchyard API" }));
}
