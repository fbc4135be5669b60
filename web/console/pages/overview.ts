/**
 * Overview: every queue, topic, namespace, lock and breaker from the catalog (`GET /v1/<kind>`),
 * with the figures that matter, and the database cluster. Names can also be opened by hand.
 */
import { type Answer, api, explain, routeMissing } from "../api.ts";
import { fill, h, notice, RateHistory, sparkline, table } from "../dom.ts";
import { href } from "../route.ts";
import type { Page } from "../view.ts";

interface CatalogPage {
  items: { name: string; createdAt: number; lastUsedAt: number }[];
  cursor: string | null;
}

type Kind = "queues" | "topics" | "state" | "locks" | "breakers";

const TITLES: Record<Kind, string> = {
  queues: "Queues",
  topics: "Topics",
  state: "State namespaces",
  locks: "Locks",
  breakers: "Circuit breakers",
};

/** Completed tasks (queues) and published events (topics) per refresh, for the "trend" sparklines (kept across visits). */
const completedRates = new RateHistory();
const publishedRates = new RateHistory();

/** A sparkline once there are two rates to join (three refreshes); until then nothing. */
function throughput(rates: number[], what: string): Node | string {
  return rates.length >= 2 ? sparkline(rates, `${what} per refresh: ${rates.join(", ")}`) : "";
}

/** How many names per kind get their figures fetched on each refresh. */
const DETAIL_LIMIT = 50;

type Cells = (Node | string | number)[];

/** The figures of one name, as table cells after the name. */
async function figures(
  kind: Kind,
  name: string,
): Promise<{ headers: string[]; cells: Cells; flag?: string }> {
  const n = encodeURIComponent(name);
  const fail = (answer: Answer, headers: string[]) => ({
    headers,
    cells: [explain(answer), ...headers.slice(1).map(() => "")],
  });
  switch (kind) {
    case "queues": {
      const headers = ["ready", "leased", "dead", "trend"];
      const a = await api<QueueStats>("GET", `/v1/queues/${n}/stats`);
      if (!a.ok) return fail(a, headers);
      const s = a.body;
      const ready = s.ready.low + s.ready.normal + s.ready.high + s.ready.critical;
      const rates = completedRates.record(name, s.totals.completed ?? 0);
      return {
        headers,
        cells: [ready, s.leased, s.dead, throughput(rates, "completed")],
        flag: s.paused ? "paused" : undefined,
      };
    }
    case "topics": {
      const headers = ["published", "pending", "dead letters", "trend"];
      const a = await api<TopicStats>("GET", `/v1/topics/${n}/stats`);
      if (!a.ok) return fail(a, headers);
      const dead = a.body.subscriptions.reduce((sum, s) => sum + s.deadLetters, 0);
      const rates = publishedRates.record(name, a.body.published);
      return {
        headers,
        cells: [a.body.published, a.body.pending, dead, throughput(rates, "published")],
      };
    }
    case "locks": {
      const headers = ["holders", "waiters", "permits"];
      const a = await api<LockInfo>("GET", `/v1/locks/${n}`);
      if (!a.ok) return fail(a, headers);
      return { headers, cells: [a.body.holders.length, a.body.waiters, a.body.permits] };
    }
    case "breakers": {
      const headers = ["state", "calls", "failures", "opened"];
      const a = await api<BreakerInfo>("GET", `/v1/breakers/${n}`);
      if (!a.ok) return fail(a, headers);
      const c = a.body.counters;
      return {
        headers,
        cells: [h("span", { class: `badge ${a.body.state}` }, a.body.state), c.calls, c.failures, c.opened],
      };
    }
    case "state":
      return { headers: [], cells: [] };
  }
}

/** One catalog section: the listing, or a short message when the route is missing or refused. */
async function section(kind: Kind, body: HTMLElement): Promise<void> {
  const listing = await api<CatalogPage>("GET", `/v1/${kind}?limit=100`);
  if (!listing.ok) {
    fill(
      body,
      notice(
        routeMissing(listing)
          ? "This server has no catalog listing yet: open a name with the box above."
          : explain(listing),
        routeMissing(listing) ? "info" : "error",
      ),
    );
    return;
  }
  const items = listing.body.items;
  if (items.length === 0) {
    fill(body, notice(`No ${TITLES[kind].toLowerCase()} yet.`));
    return;
  }
  const details = await Promise.all(items.slice(0, DETAIL_LIMIT).map((item) => figures(kind, item.name)));
  const headers = ["name", ...(details[0]?.headers ?? [])];
  const rows = items.map((item, i) => [
    h(
      "span",
      {},
      h("a", { href: href(kind, item.name) }, item.name),
      details[i]?.flag ? h("span", { class: "badge bad" }, details[i]?.flag) : null,
    ),
    ...(details[i]?.cells ?? []),
  ]);
  fill(
    body,
    table(headers, rows, TITLES[kind]),
    listing.body.cursor ? notice(`Showing the first ${items.length}; open others by name.`) : null,
  );
}

/** The database cluster: primary, each node's role, health and lag. */
async function database(body: HTMLElement): Promise<void> {
  const a = await api<DbStatus>("GET", "/v1/db/status");
  if (!a.ok) {
    fill(body, notice(explain(a), "error"));
    return;
  }
  fill(
    body,
    h("p", {}, "Primary: ", h("strong", {}, a.body.primary), " · ", h("a", { href: href("db") }, "details")),
    table(
      ["node", "region", "role", "healthy", "lag"],
      a.body.nodes.map((node) => [
        node.name,
        node.region,
        node.role,
        h("span", { class: `badge ${node.healthy ? "ok" : "bad"}` }, node.healthy ? "yes" : "no"),
        node.lagMs === undefined ? "" : `${node.lagMs} ms`,
      ]),
      "Database nodes",
    ),
  );
}

/** A box to open a name of any kind, for servers without the catalog or names past the first page. */
function opener(): HTMLElement {
  const kind = h(
    "select",
    { "aria-label": "Kind to open", id: "open-kind" },
    ...(Object.keys(TITLES) as Kind[]).map((k) => h("option", { value: k }, TITLES[k])),
  );
  const name = h("input", {
    "aria-label": "Name to open",
    id: "open-name",
    placeholder: "name",
    required: true,
  });
  return h(
    "form",
    {
      class: "inline",
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (name.value) location.hash = href(kind.value, name.value.trim());
      },
    },
    kind,
    name,
    h("button", { type: "submit" }, "Open"),
  );
}

export const overview: Page = (root) => {
  const kinds = Object.keys(TITLES) as Kind[];
  const bodies = new Map(kinds.map((kind) => [kind, h("div", {}, notice("Loading…"))]));
  const db = h("div", {}, notice("Loading…"));
  fill(
    root,
    h("h1", {}, "Overview"),
    opener(),
    h(
      "div",
      { class: "grid" },
      ...kinds.map((kind) =>
        h(
          "section",
          { "aria-label": TITLES[kind], id: `sec-${kind}` },
          h("h2", {}, TITLES[kind]),
          bodies.get(kind),
        ),
      ),
      h("section", { "aria-label": "Database", id: "sec-db" }, h("h2", {}, "Database"), db),
    ),
  );
  const refresh = async () => {
    await Promise.all([...kinds.map((kind) => section(kind, bodies.get(kind) as HTMLElement)), database(db)]);
  };
  void refresh();
  return { refresh };
};

/** `GET /v1/queues/{queue}/stats`. */
export interface QueueStats {
  ready: { low: number; normal: number; high: number; critical: number };
  delayed: number;
  leased: number;
  completed: number;
  dead: number;
  /** Flow parents waiting for their children (servers before flows leave it out). */
  waiting?: number;
  paused?: boolean;
  totals: Record<string, number>;
  oldestReadyAgeMs: number | null;
}

/** `GET /v1/topics/{topic}/stats`. */
export interface TopicStats {
  published: number;
  delivered: number;
  failed: number;
  rejected: number;
  pending: number;
  subscriptions: {
    id: string;
    pending: number;
    lastSeqDelivered: number;
    deadLetters: number;
    receiver?: string;
  }[];
}

/** `GET /v1/locks/{name}`. */
export interface LockInfo {
  name: string;
  permits: number;
  holders: { owner: string; token: number; expiresAt: number }[];
  waiters: number;
}

/** `GET /v1/breakers/{name}`. */
export interface BreakerInfo {
  state: string;
  config: Record<string, unknown>;
  counters: { calls: number; failures: number; rejected: number; opened: number };
}

/** `GET /v1/db/status`. */
export interface DbStatus {
  primary: string;
  nodes: {
    name: string;
    region: string;
    role: string;
    healthy: boolean;
    lagMs?: number;
    needsRebuild?: boolean;
  }[];
}
