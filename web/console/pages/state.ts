/**
 * A state namespace: keys by prefix, a value viewer, live updates over the watch WebSocket, and an
 * editor that writes with `If-Match` (a conflict is shown, the edit is kept, nothing is overwritten).
 */
import { api, explain, mayAct, socketUrl } from "../api.ts";
import { fill, h, notice, relative, table } from "../dom.ts";
import { href } from "../route.ts";
import type { Page } from "../view.ts";

interface KeyItem {
  key: string;
  version: number;
  updatedAt: number;
}

interface Entry {
  key: string;
  value: unknown;
  version: number;
  updatedAt: number;
  expiresAt?: number;
}

interface Change {
  type: "change" | "reset";
  op?: "set" | "delete" | "expire";
  key?: string;
  value?: unknown;
  version: number;
}

export const statePage: Page = (root, namespace, params) => {
  if (!namespace) {
    fill(root, notice("No namespace named.", "error"));
    return {};
  }
  const base = `/v1/state/${encodeURIComponent(namespace)}`;
  const prefix = params.get("prefix") ?? "";
  const selected = params.get("key") ?? "";
  let shown: Entry | undefined;
  let canEdit = false;
  const keys = h("div", {}, notice("Loading…"));
  const viewer = h("div", { id: "value-viewer" });
  const live = h("p", { class: "muted", id: "live" }, "Connecting…");
  const prefixInput = h("input", {
    "aria-label": "Key prefix",
    id: "prefix",
    placeholder: "prefix",
    value: prefix,
  });
  let socket: WebSocket | undefined;

  async function loadKeys(): Promise<void> {
    const a = await api<{ items: KeyItem[]; cursor: string | null }>(
      "GET",
      `${base}?limit=200${prefix ? `&prefix=${encodeURIComponent(prefix)}` : ""}`,
    );
    if (!a.ok) {
      fill(keys, notice(explain(a), "error"));
      return;
    }
    fill(
      keys,
      a.body.items.length
        ? table(
            ["key", "version", "updated"],
            a.body.items.map((item) => [
              h(
                "a",
                {
                  href: href("state", namespace, { prefix, key: item.key }),
                  "aria-current": item.key === selected ? "true" : undefined,
                },
                item.key,
              ),
              h("span", { "data-version": item.key }, item.version),
              relative(item.updatedAt),
            ]),
            "Keys",
          )
        : notice("No keys with this prefix."),
      a.body.cursor ? notice("More keys exist: narrow the prefix.") : null,
    );
  }

  async function loadValue(): Promise<void> {
    if (!selected) {
      fill(viewer);
      return;
    }
    const a = await api<Entry>("GET", `${base}/${encodeURIComponent(selected)}`);
    if (!a.ok) {
      shown = undefined;
      fill(viewer, notice(a.status === 404 ? `No key “${selected}”.` : explain(a), "error"));
      return;
    }
    shown = a.body;
    renderValue(shown);
  }

  function renderValue(entry: Entry, message?: HTMLElement): void {
    const text = h("textarea", {
      id: "value-edit",
      "aria-label": "Value (JSON)",
      rows: 8,
      readonly: !canEdit,
    });
    text.value = JSON.stringify(entry.value, null, 2);
    const result = h("div", { "aria-live": "polite" }, message);
    const save = async () => {
      let value: unknown;
      try {
        value = JSON.parse(text.value);
      } catch {
        fill(result, notice("The value is not valid JSON.", "error"));
        return;
      }
      const a = await api<{ version: number }>(
        "PUT",
        `${base}/${encodeURIComponent(entry.key)}`,
        { value },
        { "if-match": `"${entry.version}"` },
      );
      if (a.status === 412) {
        const current = (a.body as unknown as { error: { details?: { currentVersion?: number } } }).error
          .details?.currentVersion;
        fill(
          result,
          notice(
            `Conflict: the key changed meanwhile (now version ${current ?? "?"}). Your edit was not saved; reload to see the current value.`,
            "error",
          ),
        );
        return;
      }
      if (!a.ok) {
        fill(result, notice(explain(a), "error"));
        return;
      }
      entry.version = a.body.version;
      entry.value = value;
      fill(result, notice(`Saved as version ${a.body.version}.`, "ok"));
    };
    fill(
      viewer,
      h("h2", {}, "Key ", h("code", {}, entry.key)),
      h(
        "p",
        { class: "muted" },
        "version ",
        h("span", { id: "value-version" }, entry.version),
        ` · updated ${relative(entry.updatedAt)}`,
        entry.expiresAt ? ` · expires ${relative(entry.expiresAt)}` : "",
      ),
      text,
      canEdit
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "action", onclick: () => void save() }, "Save (If-Match)"),
            h("button", { type: "button", onclick: () => void loadValue() }, "Reload"),
          )
        : null,
      result,
    );
  }

  function connect(): void {
    socket = new WebSocket(socketUrl(`${base}/subscribe`, { prefix }));
    socket.addEventListener("open", () => fill(live, "Live: changes appear as they happen."));
    socket.addEventListener("close", () => fill(live, "Live updates stopped; reload to reconnect."));
    socket.addEventListener("message", (m) => {
      let change: Change;
      try {
        change = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (change.type === "reset" || !change.key) {
        void loadKeys();
        return;
      }
      fill(live, `Live: ${change.op} ${change.key} → version ${change.version}`);
      void loadKeys();
      if (change.key !== selected || !shown) return;
      const editing = document.activeElement?.id === "value-edit";
      if (change.op !== "set") {
        fill(
          viewer,
          notice(`“${change.key}” was ${change.op === "delete" ? "deleted" : "expired"}.`, "info"),
        );
        shown = undefined;
      } else if (editing) {
        fill(
          document.getElementById("value-version") ?? live,
          `${shown.version} (version ${change.version} arrived: saving will conflict)`,
        );
      } else {
        shown = { ...shown, value: change.value, version: change.version, updatedAt: Date.now() };
        renderValue(shown, notice(`Updated live to version ${change.version}.`));
      }
    });
  }

  fill(
    root,
    h("h1", {}, "Namespace ", h("code", {}, namespace)),
    h(
      "form",
      {
        class: "inline",
        onsubmit: (e: Event) => {
          e.preventDefault();
          location.hash = href("state", namespace, { prefix: prefixInput.value });
        },
      },
      prefixInput,
      h("button", { type: "submit" }, "Filter"),
    ),
    live,
    h("div", { class: "split" }, keys, viewer),
  );
  void mayAct("state", namespace).then(async (may) => {
    canEdit = may;
    await Promise.all([loadKeys(), loadValue()]);
    connect();
  });
  return { refresh: loadKeys, dispose: () => socket?.close() };
};
