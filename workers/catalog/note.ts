/**
 * Keeps the catalog of names current from the hot path: a write registers its name the first time
 * this isolate sees it (then at most every 5 s, for `lastUsedAt` and for names a deleted queue took out), in the background, so a
 * request pays one Map lookup and the catalog object sees one write per new name per isolate.
 */
import type { Env } from "../../shared/env.ts";
import type { CatalogCapability } from "../../shared/schemas/catalog.ts";
import type { Background, Capability } from "../http/access.ts";
import { SeenNames } from "./seen.ts";

// One set per capability, keyed by the name itself: building a combined key string would cost
// more than the lookup.
const seen: Record<CatalogCapability, SeenNames> = {
  locks: new SeenNames(),
  queues: new SeenNames(),
  state: new SeenNames(),
  topics: new SeenNames(),
  breakers: new SeenNames(),
};

/** The catalog object of one capability. */
export function catalogObject(env: Env, capability: CatalogCapability) {
  return env.CATALOG.getByName(capability);
}

/**
 * Registers `name` under `capability` in the catalog, in the background (`ctx.waitUntil`), when
 * this isolate has not written it lately. Never throws and never delays the caller.
 */
export function noteName(
  env: Env,
  ctx: Background | undefined,
  capability: Capability,
  name: string,
  now: number = Date.now(),
): void {
  if (capability === "db") return;
  const names = seen[capability];
  if (!names.due(name, now)) return;
  const write = writeNote(env, capability, name, now).catch((err: unknown) => {
    // Forgotten so that the next request tries again.
    names.forget(name);
    console.error("catalog: could not note a name", capability, name, err);
  });
  if (ctx) ctx.waitUntil(write);
}

/** The catalog write, async so that even a synchronous failure becomes a rejection. */
async function writeNote(env: Env, capability: CatalogCapability, name: string, at: number): Promise<void> {
  await catalogObject(env, capability).note(name, at);
}

/**
 * Removes `name` from the catalog (a deleted queue); awaited, since the caller answers after it.
 * This isolate forgets it too, so its next write registers it again at once.
 */
export async function forgetName(env: Env, capability: Capability, name: string): Promise<void> {
  if (capability === "db") return;
  seen[capability].forget(name);
  await catalogObject(env, capability).forget(name);
}
