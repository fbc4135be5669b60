/** Tells the catalog that a name exists (placeholder until the catalog object lands). */
import type { Env } from "../../shared/env.ts";
import type { Background, Capability } from "../http/access.ts";

/** Registers `name` under `capability` in the catalog, in the background. */
export function noteName(
  _env: Env,
  _ctx: Background | undefined,
  _capability: Capability,
  _name: string,
): void {}

/** Removes `name` from the catalog (a deleted queue); awaited, since the caller answers after it. */
export async function forgetName(_env: Env, _capability: Capability, _name: string): Promise<void> {}
