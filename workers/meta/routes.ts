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
  method: "get",
  path: "/health",
  tags,
  summary: "Liveness and version (no auth)",
  responses: { 200: jsonResponse(Health, "Up") },
});

const openapi = createRoute({
  method: "get",
  path: "/openapi.json",
  tags,
  summary: "This document: OpenAPI 3.1 (no auth)",
  responses: {
    200: { description: "The OpenAPI document", content: { "application/json": { schema: {} } } },
  },
});

const docs = createRoute({
  method: "get",
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
    description: "A token from API_TOKENS (local development: switchyard-dev-token)",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Switchyard",
      version: VERSION,
      description:
        "Locks, task queues, shared state, an event bus, circuit breakers and Postgres HA on Durable Objects.",
    },
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Switchyard API" }));
}
