/**
 * A queue: counts by state and priority, task lists per state, a task by id or dedup key, its
 * detail, and the operator's actions (redrive, promote, delete, purge, pause/resume) with confirmations.
 */
import { actionButton, statusLine } from "../actions.ts";
import { api, explain, mayAct, routeMissing } from "../api.ts";
import { figures, fill, h, json, notice, relative, table } from "../dom.ts";
import { href, replaceParams } from "../route.ts";
import type { Page } from "../view.ts";
import type { QueueStats } from "./overview.ts";

const STATES = ["ready", "delayed", "leased", "waiting", "completed", "dead"] as const;
const PRIORITIES = ["critical", "high", "normal", "low"] as const;

/** The contract's TaskInfo. */
interface TaskInfo {
  id: string;
  state: string;
  priority: string;
  attempt: number;
  maxAttempts: number;
  enqueuedAt: number;
  lastError?: string;
  result?: unknown;
  payload?: unknown;
  dedupKey?: string;
}

interface TaskPage {
  tasks: TaskInfo[];
  cursor: string | null;
}

export const queuePage: Page = (root, name, params) => {
  if (!name) {
    fill(root, notice("No queue named.", "error"));
    return {};
  }
  const base = `/v1/queues/${encodeURIComponent(name)}`;
  let state = (params.get("state") ?? "ready") as (typeof STATES)[number];
  let actions = false;
  const status = statusLine();
  const counts = h("div", {}, notice("Loading…"));
  const controls = h("div", { class: "actions" });
  const list = h("div", {});
  const detail = h("div", { id: "task-detail" });
  const tabs = h("div", { role: "tablist", class: "tabs", "aria-label": "Task state" });
  const find = h("input", {
    "aria-label": "Task id or dedup key",
    id: "find-task",
    placeholder: "task id or dedup key",
    value: params.get("task") ?? "",
  });

  const refreshAll = async () => {
    await Promise.all([loadStats(), loadList()]);
  };

  async function loadStats(): Promise<void> {
    const a = await api<QueueStats>("GET", `${base}/stats`);
    if (!a.ok) {
      fill(counts, notice(explain(a), "error"));
      return;
    }
    const s = a.body;
    fill(
      counts,
      figures([
        ...PRIORITIES.map((p): [string, number] => [`ready ${p}`, s.ready[p]]),
        ["delayed", s.delayed],
        ["leased", s.leased],
        ["waiting", s.waiting ?? 0],
        ["completed", s.completed],
        ["dead", s.dead],
        ["oldest ready", s.oldestReadyAgeMs ? `${Math.round(s.oldestReadyAgeMs / 1000)} s` : "—"],
        // Servers without pause/resume leave `paused` out of stats.
        ...(s.paused === undefined
          ? []
          : [["paused", s.paused ? "yes" : "no", "paused"] as [string, string, string]]),
      ]),
      h(
        "p",
        { class: "muted" },
        `Totals: ${Object.entries(s.totals)
          .map(([k, v]) => `${k} ${v}`)
          .join(" · ")}`,
      ),
    );
    fill(
      controls,
      ...(actions
        ? [
            s.paused
              ? actionButton("Resume", status, () => api("POST", `${base}/resume`), refreshAll)
              : actionButton("Pause", status, () => api("POST", `${base}/pause`), refreshAll, {
                  confirm: `Pause queue ${name}? Leases hand out nothing until it is resumed.`,
                }),
            actionButton(
              "Redrive all dead",
              status,
              () => api("POST", `${base}/dead/redrive`, {}),
              refreshAll,
              {
                confirm: `Move every dead task of ${name} back to ready, attempts reset?`,
                done: (r) => `Redriven: ${(r.body as { redriven: number }).redriven}.`,
              },
            ),
            ...(["completed", "dead"] as const).map((which) =>
              actionButton(
                `Purge ${which}`,
                status,
                () => api("DELETE", `${base}/tasks?state=${which}`),
                refreshAll,
                {
                  danger: true,
                  confirm: `Delete every ${which} task of ${name}? This cannot be undone.`,
                  done: (r) => `Purged: ${(r.body as { purged: number }).purged}.`,
                },
              ),
            ),
            actionButton("Delete queue", status, () => api("DELETE", base), refreshAll, {
              danger: true,
              confirm: `Delete queue ${name} with every task in every state, its counters and its paused flag?`,
            }),
          ]
        : [h("p", { class: "muted" }, "Read-only token: no actions.")]),
    );
  }

  /** The list of the chosen state; dead falls back to `GET .../dead` on servers without task lists. */
  async function loadList(): Promise<void> {
    for (const tab of tabs.children) tab.setAttribute("aria-selected", String(tab.textContent === state));
    let a = await api<TaskPage>("GET", `${base}/tasks?state=${state}&limit=50`);
    if (routeMissing(a) && state === "dead") a = await api<TaskPage>("GET", `${base}/dead?limit=50`);
    if (!a.ok) {
      fill(
        list,
        notice(
          routeMissing(a) ? "This server has no task lists yet (GET …/tasks?state=)." : explain(a),
          "info",
        ),
      );
      return;
    }
    const tasks = a.body.tasks;
    if (tasks.length === 0) {
      fill(list, notice(`No ${state} tasks.`));
      return;
    }
    const selected = new Set<string>();
    const selectable = state === "dead" && actions;
    const rows = tasks.map((t) => [
      ...(selectable
        ? [
            h("input", {
              type: "checkbox",
              "aria-label": `select ${t.id}`,
              onchange: (e: Event) => {
                if ((e.target as HTMLInputElement).checked) selected.add(t.id);
                else selected.delete(t.id);
              },
            }),
          ]
        : []),
      h("a", { href: href("queues", name, { state, task: t.id }) }, t.id),
      t.priority,
      `${t.attempt}/${t.maxAttempts}`,
      relative(t.enqueuedAt),
      t.lastError ?? "",
    ]);
    fill(
      list,
      table(
        [...(selectable ? ["select"] : []), "id", "priority", "attempt", "enqueued", "last error"],
        rows,
        `${state} tasks`,
      ),
      selectable
        ? actionButton(
            "Redrive selected",
            status,
            () => api("POST", `${base}/dead/redrive`, { ids: [...selected] }),
            refreshAll,
            {
              confirm: "Redrive the selected dead tasks?",
              done: (r) => `Redriven: ${(r.body as { redriven: number }).redriven}.`,
            },
          )
        : null,
      a.body.cursor ? notice("More tasks exist than shown here.") : null,
    );
  }

  /** A task by id, else by dedup key; shows its detail and the actions its state allows. */
  async function showTask(query: string): Promise<void> {
    if (!query) {
      fill(detail);
      return;
    }
    let a = await api<TaskInfo | TaskPage>("GET", `${base}/tasks/${encodeURIComponent(query)}`);
    let task: TaskInfo | undefined = a.ok ? (a.body as TaskInfo) : undefined;
    if (!task) {
      a = await api<TaskPage>("GET", `${base}/tasks?dedupKey=${encodeURIComponent(query)}`);
      task = a.ok ? (a.body as TaskPage).tasks[0] : undefined;
    }
    if (!task) {
      fill(detail, notice(`No task with id or dedup key “${query}”.`, "error"));
      return;
    }
    const t = task;
    const reload = async () => {
      await Promise.all([refreshAll(), showTask(t.id)]);
    };
    fill(
      detail,
      h("h2", {}, `Task ${t.id}`),
      figures([
        ["state", t.state, "task-state"],
        ["priority", t.priority],
        ["attempts", `${t.attempt}/${t.maxAttempts}`],
        ["enqueued", h("time", { datetime: new Date(t.enqueuedAt).toISOString() }, relative(t.enqueuedAt))],
        ...(t.dedupKey ? [["dedup key", t.dedupKey] as [string, string]] : []),
      ]),
      t.lastError ? h("p", {}, "Last error: ", h("code", {}, t.lastError)) : null,
      h("h3", {}, "Payload"),
      json(t.payload),
      t.result === undefined ? null : h("h3", {}, "Result"),
      t.result === undefined ? null : json(t.result),
      h(
        "div",
        { class: "actions" },
        actions && t.state === "dead"
          ? actionButton(
              "Redrive",
              status,
              () => api("POST", `${base}/dead/redrive`, { ids: [t.id] }),
              reload,
              {
                confirm: `Redrive task ${t.id}?`,
              },
            )
          : null,
        actions && t.state === "delayed"
          ? actionButton(
              "Promote",
              status,
              () => api("POST", `${base}/tasks/${encodeURIComponent(t.id)}/promote`),
              reload,
            )
          : null,
        actions && (t.state === "ready" || t.state === "delayed")
          ? actionButton(
              "Delete",
              status,
              () => api("DELETE", `${base}/tasks/${encodeURIComponent(t.id)}`),
              // Gone: the detail empties and the lists change; refused (leased meanwhile): the task as it is now.
              async (answer) => {
                if (!answer.ok) return reload();
                fill(detail);
                await refreshAll();
              },
              {
                confirm: `Delete task ${t.id}? It will not run.`,
                danger: true,
                done: () => `Task ${t.id} deleted.`,
              },
            )
          : null,
      ),
    );
  }

  for (const s of STATES) {
    tabs.append(
      h(
        "button",
        {
          role: "tab",
          type: "button",
          onclick: () => {
            state = s;
            replaceParams({ state: s });
            void loadList();
          },
        },
        s,
      ),
    );
  }

  fill(
    root,
    h("h1", {}, "Queue ", h("code", {}, name)),
    status,
    counts,
    controls,
    h(
      "form",
      {
        class: "inline",
        onsubmit: (e: Event) => {
          e.preventDefault();
          replaceParams({ task: find.value.trim() || undefined });
          void showTask(find.value.trim());
        },
      },
      find,
      h("button", { type: "submit" }, "Find"),
    ),
    detail,
    h("h2", {}, "Tasks"),
    tabs,
    list,
  );

  void mayAct("queues", name).then(async (may) => {
    actions = may;
    await refreshAll();
    await showTask(params.get("task") ?? "");
  });
  return { refresh: loadStats };
};
