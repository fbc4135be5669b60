/**
 * Issue 22, a flooder that reconnects as soon as its socket is closed: after a `1008` for bad
 * messages the same caller (token principal, route, topic) is refused new sockets on that topic
 * with `429 rate_limited` and `Retry-After` for a cool-down; other topics and other tokens are not.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIRST_COOLDOWN_MS } from "../../../durable-objects/logic/socket-cooldowns.ts";
import { MAX_BAD_MESSAGES, POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { ManualClock, systemClock } from "../../../shared/resilience/clock.ts";
import { useCooldownClock } from "../../../workers/http/socket-cooldown.ts";
import { connect } from "../bus/helpers.ts";
import { call, expectError, TOKEN, unique } from "../helpers.ts";
import { scoped } from "../tokens/helpers.ts";

let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock(Date.now());
  useCooldownClock(clock);
});
afterEach(() => useCooldownClock(systemClock));

/** Connects with `token` and sends junk until the relay closes the socket; resolves to the code. */
async function floodUntilClosed(topic: string, token = TOKEN): Promise<number> {
  const sub = await connect(topic, "", token);
  const closed = new Promise<number>((resolve) => sub.ws.addEventListener("close", (e) => resolve(e.code)));
  for (let i = 0; i <= MAX_BAD_MESSAGES; i++) sub.ws.send(`junk ${i}`);
  return closed;
}

/** Subscribes with `token` and expects a live socket: a ping is answered. */
async function expectLetIn(topic: string, token = TOKEN): Promise<void> {
  const sub = await connect(topic, "", token);
  sub.send({ type: "ping" });
  expect(await sub.next()).toEqual({ type: "pong" });
  sub.ws.close();
}

/** A subscribe upgrade that is expected to be refused; the answer. */
const upgrade = (topic: string, token = TOKEN) =>
  call("GET", `/v1/topics/${topic}/subscribe`, undefined, { token, headers: { upgrade: "websocket" } });

describe("a caller whose topic socket was closed for bad messages", () => {
  it("is refused 429 with Retry-After before any socket is made, until its cool-down has passed", async () => {
    const topic = unique("churn");
    expect(await floodUntilClosed(topic)).toBe(POLICY_VIOLATION);

    const refused = await upgrade(topic);
    expectError(refused, 429, "rate_limited");
    expect(refused.headers.get("retry-after")).toBe(String(FIRST_COOLDOWN_MS / 1000));
    expect(refused.body.error.details).toEqual({ retryAfterMs: FIRST_COOLDOWN_MS });

    clock.advance(FIRST_COOLDOWN_MS - 1_500);
    expect((await upgrade(topic)).headers.get("retry-after")).toBe("2");
    clock.advance(1_500);
    await expectLetIn(topic);
  });

  it("waits twice as long after a second close", async () => {
    const topic = unique("churn");
    await floodUntilClosed(topic);
    clock.advance(FIRST_COOLDOWN_MS);
    expect(await floodUntilClosed(topic)).toBe(POLICY_VIOLATION);
    expect((await upgrade(topic)).headers.get("retry-after")).toBe(String((2 * FIRST_COOLDOWN_MS) / 1000));
  });

  it("is still let in on other topics, and other tokens are let in on its topic", async () => {
    const topic = unique("churn");
    const reader = await scoped("topics:*", "read");
    await floodUntilClosed(topic, reader);
    expectError(await upgrade(topic, reader), 429, "rate_limited");

    await expectLetIn(unique("churn"), reader);
    await expectLetIn(topic);
  });

  it("keeps the contract's order: a request without the upgrade is still 400", async () => {
    const topic = unique("churn");
    await floodUntilClosed(topic);
    const plain = await call("GET", `/v1/topics/${topic}/subscribe`);
    expectError(plain, 400, "invalid_request");
  });
});
