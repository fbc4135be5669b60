/** `/v1/breakers/{name}`: thin HTTP over the circuit breaker object. */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import {
  Acquired,
  BreakerConfig,
  BreakerInfo,
  Outcome,
  OutcomeBatch,
  Recorded,
} from "../../shared/schemas/breaker.ts";
import { commonErrors, jsonBody, jsonResponse, NameParam } from "../../shared/schemas/common.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";

const params = z.object({ name: NameParam("Circuit breaker name") });
const tags = ["Circuit breakers"];
const breakerObject = (env: Env, name: string) => env.BREAKERS.getByName(name);

const configure = operation(
  { capability: "breakers", action: "admin", catalog: true },
  {
    operationId: "configureBreaker",
    method: "put",
    path: "/{name}",
    tags,
    summary: "Configure a shared circuit breaker",
    description:
      "Fields left out take their defaults. The state, counters and (for the same `windowMs`) the window carry over.",
    request: { params, body: jsonBody(BreakerConfig) },
    responses: { 200: jsonResponse(BreakerConfig, "The configuration in force"), ...commonErrors },
  },
);

const acquire = operation(
  { capability: "breakers", action: "write", catalog: true },
  {
    operationId: "acquireBreaker",
    method: "post",
    path: "/{name}/acquire",
    tags,
    summary: "Ask whether a call may go",
    description:
      "Closed: allowed. Open: refused with `retryAfterMs` until `openMs` has passed. Half-open: at most `halfOpenProbes` callers at a time are allowed; each must `record` its outcome (a probe that never does frees its slot after `openMs`).",
    request: { params },
    responses: { 200: jsonResponse(Acquired, "The decision"), ...commonErrors },
  },
);

const record = operation(
  { capability: "breakers", action: "write", catalog: true },
  {
    operationId: "recordBreakerCall",
    method: "post",
    path: "/{name}/record",
    tags,
    summary: "Report a call's outcome",
    request: { params, body: jsonBody(Outcome) },
    responses: { 200: jsonResponse(Recorded, "The state after it"), ...commonErrors },
  },
);

const recordBatch = operation(
  { capability: "breakers", action: "write", catalog: true },
  {
    operationId: "recordBreakerCalls",
    method: "post",
    path: "/{name}/record-batch",
    tags,
    summary: "Report up to 1000 outcomes at once, oldest first",
    request: { params, body: jsonBody(OutcomeBatch) },
    responses: { 200: jsonResponse(Recorded, "The state after them"), ...commonErrors },
  },
);

const info = operation(
  { capability: "breakers", action: "read" },
  {
    operationId: "getBreaker",
    method: "get",
    path: "/{name}",
    tags,
    summary: "State, configuration and counters of a breaker",
    request: { params },
    responses: { 200: jsonResponse(BreakerInfo, "The breaker"), ...commonErrors },
  },
);

/** The circuit breaker routes, mounted at `/v1/breakers`. */
export const breakerRoutes = createRouter()
  .openapi(configure, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await breakerObject(c.env, name).configure(c.req.valid("json")), 200);
  })
  .openapi(acquire, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await breakerObject(c.env, name).acquire(), 200);
  })
  .openapi(record, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await breakerObject(c.env, name).record([c.req.valid("json")]), 200);
  })
  .openapi(recordBatch, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await breakerObject(c.env, name).record(c.req.valid("json").outcomes), 200);
  })
  .openapi(info, async (c) => {
    const { name } = c.req.valid("param");
    return c.json(await breakerObject(c.env, name).info(), 200);
  });
