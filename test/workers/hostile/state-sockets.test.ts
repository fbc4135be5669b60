/**
 * Issue 22 on state subscriptions: junk from a subscriber is answered by the Worker's relay, logged
 * once and ends the socket with 1008 after ten, and the namespace's object receives none of it; a
 * large `fromVersion` replay goes out in bounded steps, in order.
 */
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_BAD_MESSAGES, POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { StateObject } from "../../../durable-objects/state/object.ts";
import { call, TOKEN, unique } from "../helpers.ts";

interface Opened {
  ws: WebSocket;
  messages: string[];
  closed: Promise<CloseEvent>;
}

async function open(ns: string, query = ""): Promise<Opened> {
  const res = await exports.default.fetch(
    new Request(`http://localhost/v1/state/${ns}/subscribe${query}`, {
      headers: { Upgrade: "websocket", authorization: `Bearer ${TOKEN}` },
    }),
  );
  const ws = res.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${res.status}`);
  const messages: string[] = [];
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  ws.addEventListener("message", (e) => messages.push(String(e.data)));
  ws.accept();
  return { ws, messages, closed };
}

/** Polls until `check` holds, with a deadline. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await scheduler.wait(5);
  }
}

afterEach(() => vi.restoreAllMocks());

describe("junk on a state subscription", () => {
  it("answers each bad message, a ping too, logs once, and closes with 1008 after ten", async () => {
    const warn = vi.spyOn(console, "warn");
    const received = vi.spyOn(StateObject.prototype, "webSocketMessage");
    const ns = unique("junk");
    const s = await open(ns);
    s.ws.send(JSON.stringify({ type: "ping" }));
    for (let i = 1; i < MAX_BAD_MESSAGES; i++) s.ws.send(`junk ${i}`);
    await until(() => s.messages.length === MAX_BAD_MESSAGES, "ten answers");
    for (const m of s.messages) {
      expect(JSON.parse(m)).toMatchObject({ type: "error", error: { code: "invalid_request" } });
    }
    s.ws.send("one too many");
    const close = await s.closed;
    expect(close.code).toBe(POLICY_VIOLATION);
    const lines = warn.mock.calls.filter((c) => String(c[0]).includes("state: a socket sent a bad message"));
    expect(lines.length).toBe(1);
    // The namespace's other callers are unaffected, and come after anything the socket sent.
    expect((await call("PUT", `/v1/state/${ns}/k`, { value: 1 })).status).toBe(200);
    expect(received).not.toHaveBeenCalled();
  });
});

describe("a large replay", () => {
  it("sends every retained change after fromVersion in order, then live ones, past one 8 MiB step, paced by the relay", async () => {
    const ns = unique("replay");
    // 40 values of 250 KiB: a 10 MB replay, more than one step.
    const value = "v".repeat(250 * 1024);
    for (let i = 0; i < 40; i++) {
      expect((await call("PUT", `/v1/state/${ns}/k${i % 5}`, { value })).status).toBe(200);
    }
    const stepsTaken = vi.spyOn(StateObject.prototype, "webSocketMessage");
    const s = await open(ns, "?fromVersion=0");
    await call("PUT", `/v1/state/${ns}/live`, { value: 1 });
    await until(() => s.messages.length === 41, "41 messages", 20_000);
    const versions = s.messages.map((m) => (JSON.parse(m) as { version: number }).version);
    expect(versions).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    // Two steps: the second came on the relay's word that the client had taken the first, and the
    // client saw none of their exchange.
    expect(stepsTaken).toHaveBeenCalledTimes(1);
    s.ws.close(1000, "done");
  }, 60_000);
});
