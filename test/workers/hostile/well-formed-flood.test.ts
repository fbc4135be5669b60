/**
 * "A flood on one socket does not hold up the object's other callers", for frames the relay must
 * forward: well-formed acks for tasks or events that do not exist. An object takes each frame as
 * one event, and its other callers' requests queue behind the events it has been handed; so the
 * relay hands it at most MAX_IN_FLIGHT at a time (workers/http/forward-window.ts). Here the object
 * is held from taking any until the relay has seen the whole flood: it has been handed no more than
 * that. Then every frame is still taken, and a consumer's answers all come back, in order.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { TopicObject } from "../../../durable-objects/bus/object.ts";
import { POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { QueueObject } from "../../../durable-objects/queue/object.ts";
import { ForwardWindow, MAX_IN_FLIGHT, MAX_WAITING_CHARS } from "../../../workers/http/forward-window.ts";
import { connect, publish } from "../bus/helpers.ts";
import { unique } from "../helpers.ts";
import { enqueue } from "../queue/queue-helpers.ts";
import { consumer } from "../queue/stream-helpers.ts";

const FLOOD = 2_000;

afterEach(() => vi.restoreAllMocks());

interface SocketObjectClass {
  prototype: { webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> };
}

/**
 * Holds every frame `objects` receive until `open()`; counts the frames handed to them, and the
 * frames the relay has been sent to forward.
 */
function holdFrames(objects: SocketObjectClass) {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const take = objects.prototype.webSocketMessage;
  const handed = vi.spyOn(objects.prototype, "webSocketMessage").mockImplementation(async function (
    this: unknown,
    ws,
    message,
  ) {
    await gate;
    return take.call(this, ws, message);
  });
  const relayed = vi.spyOn(ForwardWindow.prototype, "forward");
  return {
    open,
    handed: () => handed.mock.calls.length,
    async relayedAll() {
      await vi.waitFor(() => expect(relayed.mock.calls.length).toBe(FLOOD), {
        timeout: 20_000,
        interval: 20,
      });
      // What the relay sent before the object's first event is handed to it by the next one.
      await vi.waitFor(() => expect(handed.mock.calls.length).toBeGreaterThan(0), { interval: 20 });
    },
  };
}

describe("a flood of well-formed frames", () => {
  it("on a consumer socket: the object is handed a few at a time, and every ack is answered in order", async () => {
    const q = unique("wflood");
    const c = await consumer(q, { prefetch: 1 });
    const held = holdFrames(QueueObject);
    for (let i = 0; i < FLOOD; i++) {
      c.send({ type: "ack", acks: [{ id: `no-such-task-${i}`, leaseId: "no-such-lease" }] });
    }
    await held.relayedAll();
    expect(held.handed()).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    // The queue's other callers are served meanwhile.
    await enqueue(q, { tasks: [{ payload: "meanwhile" }] });
    held.open();
    const acked = () => c.messages.filter((m) => m.type === "acked");
    await c.until(() => acked().length === FLOOD, "every ack answered", 30_000);
    expect(held.handed()).toBe(FLOOD);
    expect(acked().map((m) => m.type === "acked" && m.results[0]?.id)).toEqual(
      Array.from({ length: FLOOD }, (_, i) => `no-such-task-${i}`),
    );
    // No relay-only frame reaches the client.
    expect(c.messages.every((m) => m.type === "acked" || m.type === "tasks")).toBe(true);
  });

  it("closes a consumer socket 1008 once more text waits for the object than the relay holds", async () => {
    const q = unique("wflood");
    const c = await consumer(q, { prefetch: 1 });
    const held = holdFrames(QueueObject);
    const result = "x".repeat(200_000);
    const frames = Math.ceil(MAX_WAITING_CHARS / result.length) + MAX_IN_FLIGHT + 1;
    for (let i = 0; i < frames; i++) c.send({ type: "ack", acks: [{ id: `t${i}`, leaseId: "l", result }] });
    expect(await c.closed).toEqual({ code: POLICY_VIOLATION, reason: "too many messages waiting" });
    expect(held.handed()).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    held.open();
  });

  it("on a topic socket: the object is handed a few at a time, and its receipts stay in the relay", async () => {
    const topic = unique("wflood");
    const sub = await connect(topic);
    const held = holdFrames(TopicObject);
    for (let i = 0; i < FLOOD; i++) sub.ws.send(JSON.stringify({ type: "ack", seq: 1_000_000 + i }));
    await held.relayedAll();
    expect(held.handed()).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(await publish(topic, { type: "meanwhile" })).toHaveLength(1);
    held.open();
    await vi.waitFor(() => expect(held.handed()).toBe(FLOOD), { timeout: 30_000, interval: 20 });
    expect(sub.buffered().map((m) => m.type)).toEqual(["event"]);
  });
});
