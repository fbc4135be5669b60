/** The routes about the service itself: health, the OpenAPI document, the rendered reference, the console. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import pkg from "../../package.json" with { type: "json" };
import { jsonResponse } from "../../shared/schemas/common.ts";
import type { AppEnv } from "../http/router.ts";
import { CONSOLE_HTML, DOCS_HTML } from "./pages.ts";

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
  summary: "A rendered API reference of this document, served with its viewer: works offline (no auth)",
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } },
  },
});

const consolePage = createRoute({
  operationId: "getOperatorConsole",
  method: "get",
  security: [],
  path: "/console",
  tags,
  summary: "The operator console: an HTML page whose data calls use a token pasted into it (no auth)",
  responses: {
    200: { description: "An HTML page", content: { "text/html": { schema: { type: "string" } } } },
  },
});

/**
 * Adds health, the OpenAPI document (of every route registered by then or later), the docs page
 * and the console to `app`; the document lists all four too.
 */
export function addMetaRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(health, (c) => c.json({ ok: true as const, version: VERSION }, 200));
  app.openAPIRegistry.registerPath(openapi);
  app.openAPIRegistry.registerPath(docs);
  app.openAPIRegistry.registerPath(consolePage);
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
  app.get("/docs", (c) => c.html(DOCS_HTML));
  app.get("/console", (c) => c.html(CONSOLE_HTML));
}
