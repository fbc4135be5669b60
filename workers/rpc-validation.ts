/** The name check of an RPC method written by hand (declared methods validate by their route). */
import { z } from "@hono/zod-openapi";
import type { Result } from "../shared/errors.ts";
import { NameParam } from "../shared/schemas/common.ts";
import { parseInput } from "./http/validation.ts";

const NameOnly = z.object({ name: NameParam("name") });

/** Undefined when `name` is a valid resource name, else the `invalid_request` failure. */
export function validName<T>(name: unknown): Result<T> | undefined {
  const parsed = parseInput(NameOnly, { name }, "param");
  return parsed.ok ? undefined : parsed;
}
