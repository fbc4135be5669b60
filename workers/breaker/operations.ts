/** `/v1/breakers/{name}`: every circuit breaker operation, declared once (see workers/declare/table.ts). */
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
import { jsonResponse, NameParam } from "../../shared/schemas/common.ts";
import { declareFor } from "../declare/declare-for.ts";

const breakers = declareFor({
  capability: "breakers",
  tags: ["Circuit breakers"],
  params: { name: NameParam("Circuit breaker name") },
});
const breakerObject = (env: Env, name: string) => env.BREAKERS.getByName(name);

/** The breaker operations: routes at `/v1/breakers`, methods of `env.SWITCHYARD.breakers()`. */
export const breakerOperations = {
  configure: breakers.admin("configureBreaker", "PUT /{name}", {
    catalog: true,
    summary: "Configure a shared circuit breaker",
    description:
      "Fields left out take their defaults. The state, counters and (for the same `windowMs`) the window carry over.",
    body: BreakerConfig,
    responses: { 200: jsonResponse(BreakerConfig, "The configuration in force") },
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).configure(body)),
  }),

  acquire: breakers.write("acquireBreaker", "POST /{name}/acquire", {
    catalog: true,
    summary: "Ask whether a call may go",
    description:
      "Closed: allowed. Open: refused with `retryAfterMs` until `openMs` has passed. Half-open: at most `halfOpenProbes` callers at a time are allowed; each must `record` its outcome (a probe that never does frees its slot after `openMs`).",
    responses: { 200: jsonResponse(Acquired, "The decision") },
    call: async (env, { params }) => ok(await breakerObject(env, params.name).acquire()),
  }),

  record: breakers.write("recordBreakerCall", "POST /{name}/record", {
    catalog: true,
    summary: "Report a call's outcome",
    body: Outcome,
    responses: { 200: jsonResponse(Recorded, "The state after it") },
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).record([body])),
  }),

  recordBatch: breakers.write("recordBreakerCalls", "POST /{name}/record-batch", {
    catalog: true,
    summary: "Report up to 1000 outcomes at once, oldest first",
    body: OutcomeBatch,
    responses: { 200: jsonResponse(Recorded, "The state after them") },
    call: async (env, { params, body }) => ok(await breakerObject(env, params.name).record(body.outcomes)),
  }),

  info: breakers.read("getBreaker", "GET /{name}", {
    summary: "State, configuration and counters of a breaker",
    responses: { 200: jsonResponse(BreakerInfo, "The breaker") },
    call: async (env, { params }) => ok<BreakerInfoValue>(await breakerObject(env, params.name).info()),
  }),
};
