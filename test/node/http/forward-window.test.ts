import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ForwardWindow, MAX_IN_FLIGHT, MAX_WAITING_CHARS } from "../../../workers/http/forward-window.ts";

/** A window whose deferred refills wait in `later` until the test runs them. */
function setUp() {
  const sent: string[] = [];
  const later: (() => void)[] = [];
  const window = new ForwardWindow(
    (text) => sent.push(text),
    (refill) => later.push(refill),
  );
  const runLater = () => {
    for (const refill of later.splice(0)) refill();
  };
  return { sent, later, window, runLater };
}

describe("ForwardWindow", () => {
  it("forwards the first frames at once and the rest in a later turn, as the object takes some", () => {
    const { sent, later, window, runLater } = setUp();
    for (let i = 0; i < MAX_IN_FLIGHT + 3; i++) expect(window.forward(`f${i}`)).toBe(true);
    expect(sent.length).toBe(MAX_IN_FLIGHT);
    window.taken();
    window.taken();
    // Not in the turn that took them: one refill is due, for both.
    expect(sent.length).toBe(MAX_IN_FLIGHT);
    expect(later).toHaveLength(1);
    runLater();
    expect(sent.slice(MAX_IN_FLIGHT)).toEqual([`f${MAX_IN_FLIGHT}`, `f${MAX_IN_FLIGHT + 1}`]);
  });

  it("forwards at once again when nothing waits", () => {
    const { sent, later, window } = setUp();
    window.forward("a");
    window.taken();
    window.forward("b");
    expect(sent).toEqual(["a", "b"]);
    expect(later).toHaveLength(0);
  });

  it("refuses a frame that would pass the bound on waiting text, and keeps what it holds", () => {
    const { sent, window, runLater } = setUp();
    for (let i = 0; i < MAX_IN_FLIGHT; i++) window.forward("in flight");
    const half = "x".repeat(MAX_WAITING_CHARS / 2);
    expect(window.forward(half)).toBe(true);
    expect(window.forward(half)).toBe(true);
    expect(window.forward("one more")).toBe(false);
    window.taken();
    runLater();
    expect(sent.at(-1)).toBe(half);
    expect(window.forward("one more")).toBe(true);
  });

  it("sends every frame once, in order, never more than the window ahead of what was taken", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("forward", "taken", "later"), { maxLength: 300 }), (ops) => {
        const { sent, later, window, runLater } = setUp();
        let taken = 0;
        let next = 0;
        for (const op of ops) {
          if (op === "forward") window.forward(String(next++));
          else if (op === "later") runLater();
          else if (taken < sent.length) {
            taken++;
            window.taken();
          }
          expect(sent.length - taken).toBeLessThanOrEqual(MAX_IN_FLIGHT);
        }
        while (taken < sent.length || later.length > 0) {
          runLater();
          if (taken < sent.length) {
            taken++;
            window.taken();
          }
        }
        expect(sent).toEqual(Array.from({ length: next }, (_, i) => String(i)));
      }),
    );
  });
});
