/**
 * The cluster's configuration, validated once at start-up: `DB_NODES` names every node (name,
 * region, Hyperdrive binding, initial role) and `DB_HA` tunes health checks and failover. Bad
 * configuration throws {@link DbConfigError} when the Worker loads, never on a first request.
 *
 * @example
 * DB_NODES = '[{"name":"pg-1","region":"weur","binding":"DB_PG1","role":"primary"},
 *              {"name":"pg-2","region":"enam","binding":"DB_PG2","role":"replica"}]'
 * DB_HA = '{"checkIntervalMs":5000,"failureThreshold":3,"maximumLagOnFailover":1048576}'
 * (either may also be a TOML table or array under `[vars]`)
 */
import { z } from "@hono/zod-openapi";
import { int, NAME_PATTERN } from "../schemas/common.ts";
import { PLATFORM_CONNECTION_LIMIT } from "./pool.ts";

export const NodeConfigSchema = z.object({
  name: z.string().regex(NAME_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"),
  region: z.string().min(1).max(64),
  binding: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a binding name"),
  role: z.enum(["primary", "replica"]),
  /**
   * How the other nodes stream from this one once it is the primary: a libpq conninfo without
   * `application_name` (added per replica), e.g. `host=10.0.0.2 port=5432 user=replicator`.
   * Passwords belong in each replica's `.pgpass`, not here. Unset: replicas are not repointed.
   */
  replication: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[^'\\]*$/, "must not contain quotes or backslashes")
    .optional(),
});

export const DbNodesSchema = z
  .array(NodeConfigSchema)
  .min(1)
  // One pool per node, each holding at least one connection, within one invocation's 6.
  .max(PLATFORM_CONNECTION_LIMIT)
  .superRefine((nodes, ctx) => {
    const primaries = nodes.filter((n) => n.role === "primary").length;
    if (primaries !== 1)
      ctx.addIssue({ code: "custom", message: `needs exactly one primary, has ${primaries}` });
    for (const key of ["name", "binding"] as const) {
      const seen = new Set<string>();
      for (const n of nodes) {
        if (seen.has(n[key])) ctx.addIssue({ code: "custom", message: `duplicate ${key} ${n[key]}` });
        seen.add(n[key]);
      }
    }
  });

export const HaSettingsSchema = z
  .object({
    /** How often the cluster object checks every node. */
    checkIntervalMs: int(100, 3_600_000).default(5_000),
    /** How long one node's check may take before it counts as failed. */
    checkTimeoutMs: int(100, 60_000).default(2_000),
    /** Consecutive failed checks of the primary that trigger an automatic failover (K). */
    failureThreshold: int(1, 100).default(3),
    /** Most WAL bytes a replica may lag the last known primary position and still be promoted. */
    maximumLagOnFailover: z.number().int().min(0).default(1_048_576),
    /** Off: failures are reported, promotion waits for `POST /v1/db/failover`. */
    autoFailover: z.boolean().default(true),
    /** How long a switchover waits for the target to replay the old primary's last WAL. */
    switchoverTimeoutMs: int(100, 600_000).default(10_000),
    /** How long a Worker isolate reuses the cluster's topology before asking again. */
    topologyCacheMs: int(0, 60_000).default(1_000),
  })
  .strict();

export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type HaSettings = z.infer<typeof HaSettingsSchema>;

/** A validated cluster: its nodes and how they are watched. */
export interface DbConfig {
  nodes: NodeConfig[];
  ha: HaSettings;
}

/** `DB_NODES` or `DB_HA` is malformed, or names a binding that does not exist. */
export class DbConfigError extends Error {
  override readonly name = "DbConfigError";
}

/** Parses a variable given as JSON text or, from `[vars]` tables in wrangler.toml, as a value. */
function parseVar<S extends z.ZodType>(variable: string, value: unknown, schema: S): z.output<S> {
  let raw = value;
  if (typeof value === "string") {
    try {
      raw = JSON.parse(value);
    } catch {
      throw new DbConfigError(`${variable} is not valid JSON`);
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${[variable, ...i.path].join(".")}: ${i.message}`);
  throw new DbConfigError(`invalid ${variable}: ${issues.join("; ")}`);
}

/**
 * Whether `binding` looks like a Hyperdrive binding. Checks that `connectionString` exists without
 * reading it: workerd forbids reading it in the global scope, where the configuration is loaded.
 */
function isHyperdrive(env: Record<string, unknown>, binding: string): boolean {
  const value = env[binding];
  return typeof value === "object" && value !== null && "connectionString" in value;
}

/** The connection string of a node's Hyperdrive binding (call it within a handler). */
export function connectionStringOf(env: object, node: NodeConfig): string {
  return String((env as Record<string, { connectionString: string }>)[node.binding]?.connectionString);
}

/**
 * Validates `DB_NODES`/`DB_HA` against the Worker's bindings. Undefined when `DB_NODES` is unset
 * (the `/v1/db` routes then answer 503); throws {@link DbConfigError} when anything is wrong.
 */
export function loadDbConfig(env: object): DbConfig | undefined {
  const vars = env as Record<string, unknown>;
  if (vars.DB_NODES === undefined || vars.DB_NODES === "") return undefined;
  const nodes = parseVar("DB_NODES", vars.DB_NODES, DbNodesSchema);
  const ha = parseVar("DB_HA", vars.DB_HA || {}, HaSettingsSchema);
  for (const n of nodes) {
    if (!isHyperdrive(vars, n.binding)) {
      throw new DbConfigError(
        `DB_NODES names binding ${n.binding}, which is not a Hyperdrive binding of this Worker`,
      );
    }
  }
  return { nodes, ha };
}
