/** `/v1/breakers/{name}`: every circuit breaker operation, declared once (see workers/declare/table.ts). */
import { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { ok } from "../../shared/errors.ts";
import {
  Acquired,
  BreakerConfig,
  BreakerInfo,
  type BreakerInfo as BreakerInfoValue,
  Outcome,
  OutcomeBatch,
  Recorded,
} from "../../shared/schemas/breaker.ts";
import { commonErrors, jsonBody, jsonResponse, NameParam } from "../../shared/schemas/common.ts";
import { declare } from "../declare/table.ts";

const params = z.object({ name: NameParam("Circuit breaker name") });
const tags = ["Circuit breakers"];
const breakerObject = (env: Env, name: string) => env.BREAKERS.getByName(name);

/** The breaker operations: routes at `/v1/breakers`, methods of `env.SWITCHYARD.breakers()`. */
export const breakerOperations = {
  configure: declare({
    access: { capability: "breakers", action: "admin", catalog: true },
    route: {
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
    rpc: ["name", "body"],
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).configure(body)),
  }),

  acquire: declare({
    access: { capability: "breakers", action: "write", catalog: true },
    route: {
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
    rpc: ["name"],
    call: async (env, { params }) => ok(await breakerObject(env, params.name).acquire()),
  }),

  record: declare({
    access: { capability: "breakers", action: "write", catalog: true },
    route: {
      operationId: "recordBreakerCall",
      method: "post",
      path: "/{name}/record",
      tags,
      summary: "Report a call's outcome",
      request: { params, body: jsonBody(Outcome) },
      responses: { 200: jsonResponse(Recorded, "The state after it"), ...commonErrors },
    },
    rpc: ["name", "body"],
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).record([body])),
  }),

  recordBatch: declare({
    access: { capability: "breakers", action: "write", catalog: true },
    route: {
      operationId: "recordBreakerCalls",
      method: "post",
      path: "/{name}/record-batch",
      tags,
      summary: "Report up to 1000 outcomes at once, oldest first",
      request: { params, body: jsonBody(OutcomeBatch) },
      responses: { 200: jsonResponse(Recorded, "The state after them"), ...commonErrors },
    },
    rpc: ["name", "body"],
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).record(body.outcomes)),
  }),

  info: declare({
    access: { capability: "breakers", action: "read" },
    route: {
      operationId: "getBreaker",
      method: "get",
      path: "/{name}",
      tags,
      summary: "State, configuration and counters of a breaker",
      request: { params },
      responses: { 200: jsonResponse(BreakerInfo, "The breaker"), ...commonErrors },
    },
    rpc: ["name"],
    call: async (env, { params }) => ok<BreakerInfoValue>(await breakerObject(env, params.name).info()),
  }),
};
