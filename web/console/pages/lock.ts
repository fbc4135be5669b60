/** A lock: holders with their fencing tokens and expiry countdowns, and the number of waiters. */
import { api, explain } from "../api.ts";
import { fill, h, notice, relative, table } from "../dom.ts";
import type { Page } from "../view.ts";
import type { LockInfo } from "./overview.ts";

export const lockPage: Page = (root, name) => {
  if (!name) {
    fill(root, notice("No lock named.", "error"));
    return {};
  }
  const body = h("div", {}, notice("Loading…"));
  let info: LockInfo | undefined;
  const render = () => {
    if (!info) return;
    fill(
      body,
      h("p", {}, `Permits ${info.permits} · waiters ${info.waiters}`),
      info.holders.length
        ? table(
            ["owner", "fencing token", "expires"],
            info.holders.map((x) => [x.owner, h("code", {}, x.token), relative(x.expiresAt)]),
            "Holders",
          )
        : notice("Free: nobody holds it."),
    );
  };
  const load = async () => {
    const a = await api<LockInfo>("GET", `/v1/locks/${encodeURIComponent(name)}`);
    if (!a.ok) return fill(body, notice(explain(a), "error"));
    info = a.body;
    render();
  };
  // The countdowns tick every second between refreshes.
  const ticker = setInterval(render, 1000);
  fill(root, h("h1", {}, "Lock ", h("code", {}, name)), body);
  void load();
  return { refresh: load, dispose: () => clearInterval(ticker) };
};
