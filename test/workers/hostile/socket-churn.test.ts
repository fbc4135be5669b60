/**
 * Issue 22, a flooder that reconnects as soon as its socket is closed: after a second `1008` for
 * bad messages the same caller (token principal, route, target) is refused new sockets there with
 * `429 rate_limited` and `Retry-After` for a cool-down; other targets and other tokens are not.
 * After the first it is let in at once.
 * The same for each route whose socket the Worker relays: topic and state subscriptions, and the
 * queue's streaming consumers.
 */
import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_COOLDOWN_MS } from "../../../durable-objects/logic/socket-cooldowns.ts";
import { MAX_BAD_MESSAGES, POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { ManualClock, systemClock } from "../../../shared/resilience/clock.ts";
import { useCooldownClock } from "../../../workers/http/socket-cooldown.ts";
import { call, expectError, TOKEN, unique } from "../helpers.ts";
import { RELAYED_ROUTES, type RelayedRoute } from "../relayed-routes.ts";
import { scoped } from "../tokens/helpers.ts";

/** Checks that `ws` on `target` carries messages: a write to the target is heard. */
async function expectLive(route: RelayedRoute, ws: WebSocket, target: string): Promise<void> {
  const heard = new Promise<unknown>((resolve) =>
    ws.addEventListener("message", (e) => resolve(JSON.parse(String(e.data))), { once: true }),
  );
  const [method, path, body, status] = route.write(target);
  expect((await call(method, path, body)).status).toBe(status);
  expect(await heard).toMatchObject({ type: route.heard });
}

let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock(Date.now());
  useCooldownClock(clock);
});
afterEach(() => useCooldownClock(systemClock));

describe.each(RELAYED_ROUTES)("a caller whose $name socket was closed for bad messages", (route) => {
  /** A subscribe upgrade; the answer, with its socket accepted when there is one. */
  async function upgrade(target: string, token = TOKEN): Promise<Response> {
    const res = await exports.default.fetch(
      new Request(`http://localhost${route.path(target)}`, {
        headers: { upgrade: "websocket", authorization: `Bearer ${token}` },
      }),
    );
    res.webSocket?.accept();
    return res;
  }

  /** Connects with `token` and sends junk until the relay closes the socket; resolves to the code. */
  async function floodUntilClosed(target: string, token = TOKEN): Promise<number> {
    const ws = (await upgrade(target, token)).webSocket;
    if (!ws) throw new Error("no socket");
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    for (let i = 0; i <= MAX_BAD_MESSAGES; i++) ws.send(`junk ${i}`);
    return closed;
  }

  /** Subscribes with `token` and expects a live socket. */
  async function expectLetIn(target: string, token = TOKEN): Promise<void> {
    const res = await upgrade(target, token);
    expect(res.status).toBe(101);
    const ws = res.webSocket as WebSocket;
    await expectLive(route, ws, target);
    ws.close();
  }

  /** A subscribe upgrade that is expected to be refused; the answer. */
  const refusedUpgrade = (target: string, token = TOKEN) =>
    call("GET", route.path(target), undefined, { token, headers: { upgrade: "websocket" } });

  it("is let in again at once after a first close", async () => {
    const target = unique("churn");
    expect(await floodUntilClosed(target)).toBe(POLICY_VIOLATION);
    await expectLetIn(target);
  });

  it("is refused 429 with Retry-After before any socket is made after a second close, until its cool-down has passed", async () => {
    const target = unique("churn");
    expect(await floodUntilClosed(target)).toBe(POLICY_VIOLATION);
    expect(await floodUntilClosed(target)).toBe(POLICY_VIOLATION);

    const refused = await refusedUpgrade(target);
    expectError(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(FIRST_COOLDOWN_MS / 1000));
    expect(refused.error?.details).toEqual({ retryAfterMs: FIRST_COOLDOWN_MS });

    clock.advance(FIRST_COOLDOWN_MS - 1_500);
    expect((await refusedUpgrade(target)).headers.get("retry-after")).toBe("2");
    clock.advance(1_500);
    await expectLetIn(target);
  });

  it("waits twice as long after a third close", async () => {
    const target = unique("churn");
    await floodUntilClosed(target);
    await floodUntilClosed(target);
    clock.advance(FIRST_COOLDOWN_MS);
    expect(await floodUntilClosed(target)).toBe(POLICY_VIOLATION);
    expect((await refusedUpgrade(target)).headers.get("retry-after")).toBe(
      String((2 * FIRST_COOLDOWN_MS) / 1000),
    );
  });

  it("is still let in on other targets, and other tokens are let in on its target", async () => {
    const target = unique("churn");
    const reader = await scoped(`${route.capability}:*`, route.action);
    await floodUntilClosed(target, reader);
    await floodUntilClosed(target, reader);
    expectError(await refusedUpgrade(target, reader), 429, "rate_limited");

    await expectLetIn(unique("churn"), reader);
    await expectLetIn(target);
  });

  it("keeps the contract's answer to a request without the upgrade", async () => {
    const target = unique("churn");
    await floodUntilClosed(target);
    await floodUntilClosed(target);
    expectError(await call("GET", route.path(target)), ...route.withoutUpgrade);
  });
});
