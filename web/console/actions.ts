/** Action buttons: confirm, call, report the outcome (a 403 shows as such), then refresh. */
import { type Answer, explain } from "./api.ts";
import { confirmAction, fill, h, notice } from "./dom.ts";

/** Where an action says how it went. */
export function statusLine(): HTMLElement {
  return h("div", { class: "status-line", "aria-live": "polite" });
}

/** A button that asks (when `confirm` is given), runs `call`, shows the result in `status`, then `after`. */
export function actionButton(
  label: string,
  status: HTMLElement,
  call: () => Promise<Answer>,
  after: (answer: Answer) => Promise<void> | void,
  options: { confirm?: string; danger?: boolean; done?: (answer: Answer) => string } = {},
): HTMLButtonElement {
  const button = h("button", { type: "button", class: options.danger ? "danger action" : "action" }, label);
  button.addEventListener("click", async () => {
    if (options.confirm && !(await confirmAction(options.confirm, label))) return;
    button.disabled = true;
    const answer = await call();
    button.disabled = false;
    fill(
      status,
      answer.ok
        ? notice(options.done?.(answer) ?? `${label}: done.`, "ok")
        : notice(`${label}: ${explain(answer)}`, "error"),
    );
    await after(answer);
  });
  return button;
}
