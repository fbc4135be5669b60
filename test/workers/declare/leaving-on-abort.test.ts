/**
 * leavingOnAbort (workers/declare/leaving-on-abort.ts): a waiting call whose HTTP client goes away
 * is left, once, after the call went out; a call that ends first is not left.
 */
import { describe, expect, it } from "vitest";
import { leavingOnAbort } from "../../../workers/declare/leaving-on-abort.ts";

/** A context whose background work is collected, and a log of what the object was sent, in order. */
function harness(signal: AbortSignal) {
  const sent: string[] = [];
  const background: Promise<unknown>[] = [];
  let finish: (value: string) => void = () => {};
  const answer = new Promise<string>((resolve) => {
    finish = resolve;
  });
  const run = leavingOnAbort(
    { signal, waitUntil: (work) => background.push(work) },
    (ticket) => {
      sent.push(`call ${ticket === undefined ? "without" : "with"} a ticket`);
      return answer;
    },
    async (ticket) => {
      sent.push(`leave ${ticket.length > 0 ? "its" : "no"} ticket`);
    },
  );
  return { sent, background, finish, run };
}

describe("leavingOnAbort", () => {
  it("leaves the wait when the client goes away during the call", async () => {
    const controller = new AbortController();
    const { sent, background, finish, run } = harness(controller.signal);
    controller.abort();
    await Promise.all(background);
    expect(sent).toEqual(["call with a ticket", "leave its ticket"]);
    finish("answered");
    expect(await run).toBe("answered");
  });

  it("leaves at once, after the call, when the client had gone before it went out", async () => {
    const controller = new AbortController();
    controller.abort();
    const { sent, background, finish, run } = harness(controller.signal);
    await Promise.all(background);
    expect(sent).toEqual(["call with a ticket", "leave its ticket"]);
    finish("answered");
    await run;
  });

  it("does not leave a call that ended first, even if the client goes later", async () => {
    const controller = new AbortController();
    const { sent, background, finish, run } = harness(controller.signal);
    finish("answered");
    await run;
    controller.abort();
    expect(background).toEqual([]);
    expect(sent).toEqual(["call with a ticket"]);
  });
});
