/**
 * Who is calling and what they may do: the principal a token stands for, and the one decision
 * (capability, action, name) that every route, WebSocket upgrade and RPC call goes through.
 * The table of actions per route is in API.md ("Access tokens"); each route declares its own
 * row and column beside its definition (see `operation()`).
 */

/** The capabilities a scope can name. */
export const CAPABILITIES = ["locks", "queues", "state", "topics", "breakers", "db"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** The actions a scope can grant. */
export const ACTIONS = ["read", "write", "consume", "admin"] as const;
export type Action = (typeof ACTIONS)[number];

/** The actions that have at least one route, per capability (a scope may grant only these). */
export const ACTIONS_BY_CAPABILITY: Record<Capability, readonly Action[]> = {
  locks: ["read", "write"],
  queues: ["read", "write", "consume", "admin"],
  state: ["read", "write", "admin"],
  topics: ["read", "write", "admin"],
  breakers: ["read", "write", "admin"],
  db: ["read", "admin"],
};

/** One scope of a token: `resource` is `<capability>:<pattern>`. */
export interface Scope {
  resource: string;
  actions: Action[];
}

/** A token's rate limit: at most `requests` calls per `periodMs`. */
export interface RateLimit {
  requests: number;
  periodMs: number;
}

/** What a request's token stands for. */
export type Principal =
  | { kind: "admin" }
  | { kind: "scoped"; id: string; scopes: readonly Scope[]; expiresAt: number; rateLimit?: RateLimit };

/** The admin principal: an `API_TOKENS` token (or the dev token where local development allows it). */
export const ADMIN: Principal = { kind: "admin" };

/** Splits `<capability>:<pattern>` at the first `:`. */
export function splitResource(resource: string): { capability: string; pattern: string } {
  const at = resource.indexOf(":");
  return at < 0
    ? { capability: resource, pattern: "" }
    : { capability: resource.slice(0, at), pattern: resource.slice(at + 1) };
}

/** Whether a scope pattern (`name`, `prefix*`, `*`) covers a name; case-sensitive. */
export function patternCovers(pattern: string, name: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * Whether a principal may do `action` on `capability` for `name`. Without a name (catalog
 * listings, `db`) any scope of the capability that grants the action is enough; the listing then
 * filters names with `mayRead`.
 */
export function allows(principal: Principal, capability: Capability, action: Action, name?: string): boolean {
  if (principal.kind === "admin") return true;
  return principal.scopes.some((scope) => {
    if (!scope.actions.includes(action)) return false;
    const { capability: cap, pattern } = splitResource(scope.resource);
    if (cap !== capability) return false;
    return name === undefined || patternCovers(pattern, name);
  });
}

/** Whether a listing shows `name` to the principal: a scope grants `read` on it. */
export function mayRead(principal: Principal, capability: Capability, name: string): boolean {
  return allows(principal, capability, "read", name);
}

/** Where background work of a request goes (`ctx.waitUntil`); absent in some tests. */
export interface Background {
  waitUntil(promise: Promise<unknown>): void;
}
