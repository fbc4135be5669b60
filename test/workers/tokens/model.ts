/**
 * A reference model of API.md's "Access tokens" table, written from the contract's words and
 * independent of the code under test: which capability and action a route needs, and whether a
 * set of scopes grants it for a name.
 */
export type ModelAccess = { capability: string; action: string } | "admin-token";

/** The row and column of the contract's table for a route (`path` as in the OpenAPI document). */
export function modelAccess(method: string, path: string): ModelAccess {
  const segments = path.split("/").slice(2); // ["locks", "{name}", "acquire"]
  const [capability = "", , ...rest] = segments;
  const m = method.toUpperCase();
  if (capability === "tokens") return "admin-token";
  // State mirrors into Redis live under /v1/mirrors/state/{namespace}: the table's state `admin`.
  if (capability === "mirrors") return { capability: "state", action: "admin" };
  const tail = rest.join("/");
  const is = (action: string) => ({ capability, action });
  if (segments.length === 1) return is("read"); // the catalog listing GET /v1/<capability>
  switch (capability) {
    case "locks":
      return is(m === "GET" ? "read" : "write");
    case "breakers":
      return is(m === "GET" ? "read" : m === "PUT" ? "admin" : "write");
    case "state":
      if (tail.includes("mirrors")) return is("admin");
      // The multi-key read, added beside the table, declares itself `read`: it writes nothing.
      if (m === "POST" && tail === "read") return is("read");
      return is(m === "GET" ? "read" : "write");
    case "topics":
      if (m === "GET") return is("read");
      return is(tail === "events" && m === "POST" ? "write" : "admin");
    case "queues": {
      if (/^(lease|ack|consume)$|^tasks\/\{id\}\/(ack|nack|extend|progress|logs)$/.test(tail))
        return is("consume");
      if (m === "GET") return is("read");
      if (m === "POST" && (tail === "tasks" || tail === "flows")) return is("write");
      // Running a task, added beside the table, enqueues one and reads back only that one: `write`.
      if (m === "POST" && tail === "run") return is("write");
      return is("admin");
    }
    case "db":
      return is(m === "GET" ? "read" : "admin");
    default:
      throw new Error(`the model has no row for ${method} ${path}`);
  }
}

/** A scope as the contract writes it. */
export interface ModelScope {
  resource: string;
  actions: string[];
}

/** Whether the scopes grant `action` on `capability` for `name` (any name when the route has none). */
export function modelAllows(
  scopes: readonly ModelScope[],
  capability: string,
  action: string,
  name?: string,
): boolean {
  for (const scope of scopes) {
    const colon = scope.resource.indexOf(":");
    const cap = scope.resource.slice(0, colon);
    const pattern = scope.resource.slice(colon + 1);
    if (cap !== capability || !scope.actions.includes(action)) continue;
    if (name === undefined || pattern === "*") return true;
    if (pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern) return true;
  }
  return false;
}
