/** A circuit breaker: its state, counters and configuration. */
import { api, explain } from "../api.ts";
import { figures, fill, h, json, notice } from "../dom.ts";
import type { Page } from "../view.ts";
import type { BreakerInfo } from "./overview.ts";

export const breakerPage: Page = (root, name) => {
  if (!name) {
    fill(root, notice("No breaker named.", "error"));
    return {};
  }
  const body = h("div", {}, notice("Loading…"));
  const load = async () => {
    const a = await api<BreakerInfo>("GET", `/v1/breakers/${encodeURIComponent(name)}`);
    if (!a.ok) return fill(body, notice(explain(a), "error"));
    const b = a.body;
    fill(
      body,
      h("p", {}, "State: ", h("span", { class: `badge ${b.state}` }, b.state)),
      figures(Object.entries(b.counters)),
      h("h2", {}, "Configuration"),
      json(b.config),
    );
  };
  fill(root, h("h1", {}, "Breaker ", h("code", {}, name)), body);
  void load();
  return { refresh: load };
};
