/**
 * The cluster configuration, read once when the Worker loads: a malformed `DB_NODES`/`DB_HA`, or
 * one naming a missing Hyperdrive binding, throws here and the Worker does not start.
 */
import { env } from "cloudflare:workers";
import { loadDbConfig } from "../../shared/db/config.ts";

/** Undefined when `DB_NODES` is unset (the `/v1/db` routes then answer 503). */
export const dbConfig = loadDbConfig(env);
