/** The router every route group starts from: typed bindings and the contract's validation errors. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import type { Principal } from "./access.ts";
import { invalidRequest } from "./validation.ts";

/** Hono's environment for every route group. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    principal?: Principal;
    /** The JSON body as the guard read it, before validation (undefined for a GET). */
    jsonBody?: unknown;
  };
}

/** A route group whose schema failures become `400 invalid_request` naming the field. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw invalidRequest(result.error, result.target);
    },
  });
}
