/** Bookmarkable hash routes: `#/queues/orders?state=dead` → view "queues", name "orders", params. */

export interface Route {
  view: string;
  name: string | undefined;
  params: URLSearchParams;
}

/** Parses `location.hash`. */
export function currentRoute(hash = location.hash): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [view = "", ...rest] = path.split("/");
  const name = rest.length > 0 ? decodeURIComponent(rest.join("/")) : undefined;
  return { view: view || "overview", name, params: new URLSearchParams(query) };
}

/** The hash of a view, a name and parameters (empty ones dropped). */
export function href(view: string, name?: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const q = query.toString();
  return `#/${view}${name === undefined ? "" : `/${encodeURIComponent(name)}`}${q ? `?${q}` : ""}`;
}

/** Changes one parameter of the current route without adding a history entry per keystroke. */
export function replaceParams(params: Record<string, string | undefined>): void {
  const route = currentRoute();
  const merged: Record<string, string | undefined> = Object.fromEntries(route.params);
  Object.assign(merged, params);
  history.replaceState(null, "", href(route.view, route.name, merged));
}
