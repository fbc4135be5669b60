/** The database cluster: topology and lag, failover history, restore points, a switchover. */
import { actionButton, statusLine } from "../actions.ts";
import { api, explain, mayAct } from "../api.ts";
import { fill, h, notice, relative, table } from "../dom.ts";
import type { Page } from "../view.ts";
import type { DbStatus } from "./overview.ts";

interface Failover {
  from: string;
  to: string;
  at: number;
  reason: string;
  automatic: boolean;
}

export const dbPage: Page = (root) => {
  const status = statusLine();
  const topology = h("div", {}, notice("Loading…"));
  const history = h("div", {});
  const points = h("div", {});
  const switchover = h("div", { class: "actions" });
  const load = async () => {
    const [s, f, r] = await Promise.all([
      api<DbStatus>("GET", "/v1/db/status"),
      api<{ failovers: Failover[] }>("GET", "/v1/db/failovers"),
      api<{ restorePoints?: { name: string; lsn: string; createdAt: number }[] }>(
        "GET",
        "/v1/db/restore-points",
      ),
    ]);
    fill(
      topology,
      s.ok
        ? table(
            ["node", "region", "role", "healthy", "lag", "checked"],
            s.body.nodes.map((n) => [
              n.name,
              n.region,
              n.role + (n.needsRebuild ? " (needs rebuild)" : ""),
              h("span", { class: `badge ${n.healthy ? "ok" : "bad"}` }, n.healthy ? "yes" : "no"),
              n.lagMs === undefined ? "" : `${n.lagMs} ms`,
              "checkedAt" in n ? relative(Number((n as { checkedAt: number }).checkedAt)) : "",
            ]),
            "Nodes",
          )
        : notice(explain(s), "error"),
    );
    fill(
      history,
      f.ok
        ? f.body.failovers.length
          ? table(
              ["from", "to", "when", "reason", "automatic"],
              f.body.failovers.map((x) => [
                x.from,
                x.to,
                new Date(x.at).toISOString(),
                x.reason,
                x.automatic ? "yes" : "no",
              ]),
              "Failovers",
            )
          : notice("No failovers yet.")
        : notice(explain(f), "error"),
    );
    const list = r.ok ? (r.body.restorePoints ?? []) : [];
    fill(
      points,
      r.ok
        ? list.length
          ? table(
              ["name", "lsn", "created"],
              list.map((p) => [p.name, p.lsn, relative(p.createdAt)]),
              "Restore points",
            )
          : notice("No restore points.")
        : notice(explain(r), "error"),
    );
  };
  const reason = h("input", {
    "aria-label": "Reason for the switchover",
    placeholder: "reason",
    id: "switch-reason",
  });
  void mayAct("db", "*").then((may) => {
    if (!may) return;
    fill(
      switchover,
      reason,
      actionButton(
        "Switch over",
        status,
        () =>
          api("POST", "/v1/db/failover", { reason: reason.value || "operator switchover from the console" }),
        load,
        { danger: true, confirm: "Switch the primary over to the best replica now?" },
      ),
    );
  });
  fill(
    root,
    h("h1", {}, "Database"),
    status,
    topology,
    switchover,
    h("h2", {}, "Failover history"),
    history,
    h("h2", {}, "Restore points"),
    points,
  );
  void load();
  return { refresh: load };
};
