/** A few DOM helpers: elements built from data with text nodes only (never HTML from data). */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates `<tag>` with attributes (`on*` become listeners, `false`/undefined are skipped) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces every child of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** A short notice: `info`, `error` or `ok`. */
export function notice(text: string, kind: "info" | "error" | "ok" = "info"): HTMLElement {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A table with a header row; rows are arrays of cells. */
export function table(headers: string[], rows: Child[][], label: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "aria-label": label },
      h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** Labelled figures: each pair a `<div>` holding its `<dt>` and `<dd>` (`id` lets tests and links find one). */
export function figures(pairs: [label: string, value: Child, id?: string][]): HTMLElement {
  return h(
    "dl",
    { class: "figures" },
    ...pairs.map(([label, value, id]) => h("div", {}, h("dt", {}, label), h("dd", { id }, value))),
  );
}

/** Pretty JSON in a `<pre>`. */
export function json(value: unknown): HTMLElement {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2) ?? "undefined");
}

/** A modal confirmation (a `<dialog>`, keyboard operable): resolves true on confirm. */
export function confirmAction(message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": "Confirm" },
      h(
        "form",
        { method: "dialog" },
        h("p", {}, message),
        h(
          "menu",
          {},
          h("button", { value: "cancel", type: "submit" }, "Cancel"),
          h("button", { value: "ok", type: "submit", class: "danger" }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** "in 12 s", "3 min ago": an instant relative to now. */
export function relative(at: number, now = Date.now()): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 2) return "just now";
  const text =
    abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

const SVG = "http://www.w3.org/2000/svg";

/** A small inline SVG line of `values` (oldest first), labelled for screen readers. */
export function sparkline(values: number[], label: string): Element {
  const width = 80;
  const height = 20;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute(
    "points",
    values
      .map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`)
      .join(" "),
  );
  svg.append(line);
  return svg;
}

/**
 * Per-name rates between refreshes: `record` takes a cumulative counter and keeps the last
 * `size` differences, so a sparkline shows throughput per refresh interval.
 */
export class RateHistory {
  readonly #last = new Map<string, number>();
  readonly #rates = new Map<string, number[]>();
  readonly #size: number;
  constructor(size = 24) {
    this.#size = size;
  }

  record(name: string, total: number): number[] {
    const last = this.#last.get(name);
    const rates = this.#rates.get(name) ?? [];
    if (last !== undefined) rates.push(Math.max(0, total - last));
    if (rates.length > this.#size) rates.shift();
    this.#last.set(name, total);
    this.#rates.set(name, rates);
    return rates;
  }
}
