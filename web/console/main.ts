/**
 * The operator console's entry: the token login, the hash router, and the live refresh (every few
 * seconds while the tab is visible, paused while it is hidden).
 */
import { api, explain, resetPermissions, token, whenUnauthorized } from "./api.ts";
import { fill, h, notice } from "./dom.ts";
import { breakerPage } from "./pages/breaker.ts";
import { dbPage } from "./pages/db.ts";
import { lockPage } from "./pages/lock.ts";
import { overview } from "./pages/overview.ts";
import { queuePage } from "./pages/queue.ts";
import { statePage } from "./pages/state.ts";
import { topicPage } from "./pages/topic.ts";
import { currentRoute } from "./route.ts";
import type { Page, View } from "./view.ts";

/** How often a visible page refreshes its figures. */
const REFRESH_MS = 5000;

const PAGES: Record<string, Page> = {
  overview,
  queues: queuePage,
  topics: topicPage,
  state: statePage,
  locks: lockPage,
  breakers: breakerPage,
  db: dbPage,
};

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
let view: View = {};

function showLogin(message?: string): void {
  view.dispose?.();
  view = {};
  nav.hidden = true;
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    required: true,
    "aria-label": "API token",
    placeholder: "paste an API token",
  });
  const status = h("div", { "aria-live": "polite" }, message ? notice(message, "error") : null);
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        token.set(input.value.trim());
        resetPermissions();
        // Any authenticated read tells a good token from a bad one; 403 still means "valid".
        const check = await api("GET", "/v1/db/status");
        if (check.status === 401 || check.status === 0) {
          token.clear();
          fill(
            status,
            notice(check.status === 401 ? "The server refused this token." : explain(check), "error"),
          );
          return;
        }
        render();
      },
    },
    h("h1", {}, "Switchyard console"),
    h("label", { for: "token" }, "API token"),
    input,
    h("button", { type: "submit" }, "Sign in"),
    h(
      "p",
      { class: "muted" },
      "The token stays in this tab (sessionStorage) and is sent only to this server. Local development: switchyard-dev-token.",
    ),
    status,
  );
  fill(main, form);
  input.focus();
}

function render(): void {
  if (!token.get()) {
    showLogin();
    return;
  }
  view.dispose?.();
  nav.hidden = false;
  const route = currentRoute();
  for (const link of nav.querySelectorAll("a")) {
    const current = link.getAttribute("href")?.slice(2) === route.view;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const page = PAGES[route.view];
  main.replaceChildren();
  if (page) view = page(main, route.name, route.params);
  else {
    view = {};
    fill(main, notice("No such page.", "error"));
  }
  main.focus({ preventScroll: true });
}

whenUnauthorized(() => {
  // On the login form, the form itself reports the refusal.
  if (nav.hidden) return;
  token.clear();
  showLogin("The server refused the token (401): sign in again.");
});
window.addEventListener("hashchange", render);
document.getElementById("sign-out")?.addEventListener("click", () => {
  token.clear();
  showLogin();
});
setInterval(() => {
  if (document.visibilityState === "visible") void view.refresh?.();
}, REFRESH_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") void view.refresh?.();
});
render();
