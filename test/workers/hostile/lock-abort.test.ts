/**
 * Issue 17, "a lock waiter whose client has gone leaves the queue at once": the client's request is
 * cancelled while it waits, and the lock's queue empties long before its `waitMs` would have.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, TOKEN, unique } from "../helpers.ts";

async function waiters(name: string): Promise<number> {
  return (await call("GET", `/v1/locks/${name}`)).body.waiters;
}

async function until(check: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await scheduler.wait(10);
  }
}

describe("a waiter whose client has gone", () => {
  it("leaves the queue at once, and the next release goes to a waiter that is still there", async () => {
    const name = unique("abort");
    const held = await call("POST", `/v1/locks/${name}/acquire`, { owner: "holder", ttlMs: 60_000 });
    expect(held.status).toBe(200);

    const controller = new AbortController();
    const gone = exports.default
      .fetch(
        new Request(`http://localhost/v1/locks/${name}/acquire`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ owner: "gone", waitMs: 60_000 }),
          signal: controller.signal,
        }),
      )
      .catch((err: unknown) => err);
    await until(async () => (await waiters(name)) === 1, "the waiter queued", 5_000);
    controller.abort();
    await gone;
    // Long before the 60 s wait would end.
    await until(async () => (await waiters(name)) === 0, "the waiter left", 5_000);

    const stays = call("POST", `/v1/locks/${name}/acquire`, { owner: "stays", waitMs: 10_000 });
    await until(async () => (await waiters(name)) === 1, "the second waiter queued", 5_000);
    await call("POST", `/v1/locks/${name}/release`, { owner: "holder", token: held.body.token });
    const granted = await stays;
    expect(granted.status).toBe(200);
    expect(granted.body.owner).toBe("stays");
  }, 30_000);
});
