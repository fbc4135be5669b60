/**
 * A topic: its figures, subscriptions with health, pending counts and dead letters (redrive,
 * pause/resume), and a live tail over the subscribe WebSocket that starts with recent events.
 */
import { actionButton, statusLine } from "../actions.ts";
import { api, explain, mayAct, socketUrl } from "../api.ts";
import { figures as figureList, fill, h, notice, relative, table } from "../dom.ts";
import type { Page } from "../view.ts";
import type { TopicStats } from "./overview.ts";

interface Subscription {
  id: string;
  url?: string;
  redis?: Record<string, unknown>;
  filter?: string[];
  paused?: boolean;
  receiver?: string;
}

interface TailEvent {
  seq: number;
  type: string;
  priority: string;
  publishedAt: number;
  data: unknown;
}

/** An event that ran out of attempts for one subscription. */
interface DeadLetter {
  event: TailEvent;
  attempts: number;
  lastError: string;
  deadAt: number;
}

/** How many events the tail keeps on screen. */
const TAIL = 50;

export const topicPage: Page = (root, name) => {
  if (!name) {
    fill(root, notice("No topic named.", "error"));
    return {};
  }
  const base = `/v1/topics/${encodeURIComponent(name)}`;
  let actions = false;
  const status = statusLine();
  const figures = h("div", {}, notice("Loading…"));
  const subs = h("div", {});
  const dead = h("div", { id: "dead-letters" });
  const tail = h("ol", { class: "tail", id: "tail", "aria-live": "polite" });
  const tailState = h("p", { class: "muted" }, "Connecting…");
  let socket: WebSocket | undefined;

  async function load(): Promise<void> {
    const [stats, list] = await Promise.all([
      api<TopicStats>("GET", `${base}/stats`),
      api<{ subscriptions: Subscription[] }>("GET", `${base}/subscriptions`),
    ]);
    if (!stats.ok) {
      fill(figures, notice(explain(stats), "error"));
      return;
    }
    const s = stats.body;
    fill(
      figures,
      figureList(
        (["published", "delivered", "failed", "rejected", "pending"] as const).map((k) => [k, s[k]]),
      ),
    );
    const byId = new Map(s.subscriptions.map((x) => [x.id, x]));
    const rows = (list.ok ? list.body.subscriptions : []).map((sub) => {
      const st = byId.get(sub.id);
      const subBase = `${base}/subscriptions/${encodeURIComponent(sub.id)}`;
      return [
        h("code", {}, sub.id),
        sub.url ?? JSON.stringify(sub.redis ?? {}),
        (sub.filter ?? []).join(", ") || "all",
        h(
          "span",
          { class: `badge ${sub.paused || st?.receiver === "down" ? "bad" : "ok"}` },
          sub.paused ? "paused" : (st?.receiver ?? "up"),
        ),
        st?.pending ?? "",
        h(
          "button",
          { type: "button", class: "link", onclick: () => void showDead(sub.id) },
          String(st?.deadLetters ?? "view"),
        ),
        actions
          ? sub.paused
            ? actionButton("Resume", status, () => api("POST", `${subBase}/resume`), load)
            : actionButton("Pause", status, () => api("POST", `${subBase}/pause`), load, {
                confirm: `Pause deliveries to subscription ${sub.id}?`,
              })
          : "",
      ];
    });
    fill(
      subs,
      list.ok
        ? rows.length
          ? table(["id", "target", "filter", "health", "pending", "dead letters", ""], rows, "Subscriptions")
          : notice("No subscriptions.")
        : notice(explain(list), "error"),
    );
  }

  async function showDead(id: string): Promise<void> {
    const path = `${base}/subscriptions/${encodeURIComponent(id)}/dead-letters`;
    const a = await api<{ deadLetters: DeadLetter[] }>("GET", `${path}?limit=50`);
    if (!a.ok) {
      fill(dead, notice(explain(a), "error"));
      return;
    }
    const letters = a.body.deadLetters ?? [];
    fill(
      dead,
      h("h3", {}, `Dead letters of ${id}`),
      letters.length
        ? table(
            ["seq", "type", "attempts", "last error", "dead since", "data"],
            letters.map((d) => [
              d.event.seq,
              d.event.type,
              d.attempts,
              d.lastError,
              relative(d.deadAt),
              h("code", {}, JSON.stringify(d.event.data).slice(0, 120)),
            ]),
            "Dead letters",
          )
        : notice("None."),
      actions && letters.length
        ? actionButton(
            "Redrive dead letters",
            status,
            () => api("POST", `${path}/redrive`, {}),
            async () => {
              await Promise.all([load(), showDead(id)]);
            },
            {
              confirm: `Deliver the dead letters of ${id} again?`,
              done: (r) => `Redriven: ${(r.body as { redriven: number }).redriven}.`,
            },
          )
        : null,
    );
  }

  function connect(fromSeq: number): void {
    socket = new WebSocket(socketUrl(`${base}/subscribe`, { fromSeq: String(fromSeq) }));
    socket.addEventListener("open", () => fill(tailState, "Live: new events appear here."));
    socket.addEventListener("close", () => fill(tailState, "The live tail closed; reload to reconnect."));
    socket.addEventListener("message", (m) => {
      let message: { type?: string; event?: TailEvent & { critical?: boolean } };
      try {
        message = JSON.parse(String(m.data));
      } catch {
        return;
      }
      const event = message.event;
      if (message.type !== "event" || !event) return;
      // Critical events are sent again until acknowledged.
      if (event.critical) socket?.send(JSON.stringify({ type: "ack", seq: event.seq }));
      tail.prepend(
        h(
          "li",
          {},
          h("strong", {}, `#${event.seq} ${event.type}`),
          ` ${event.priority} · ${new Date(event.publishedAt).toLocaleTimeString()} `,
          h("code", {}, JSON.stringify(event.data).slice(0, 200)),
        ),
      );
      while (tail.children.length > TAIL) tail.lastElementChild?.remove();
    });
  }

  fill(
    root,
    h("h1", {}, "Topic ", h("code", {}, name)),
    status,
    figures,
    h("h2", {}, "Subscriptions"),
    subs,
    dead,
    h("h2", {}, "Recent events and live tail"),
    tailState,
    tail,
  );
  void mayAct("topics", name).then(async (may) => {
    actions = may;
    await load();
    const stats = await api<TopicStats>("GET", `${base}/stats`);
    connect(Math.max(1, (stats.ok ? stats.body.published : 0) - 19));
  });
  return { refresh: load, dispose: () => socket?.close() };
};
