/**
 * A streaming consumer flooding junk: the Worker's relay answers and counts the bad frames, so the
 * queue's object receives the consumer's well-formed messages only (each frame a hibernatable
 * socket receives is one event of the object, and enqueues wait behind them), hears the `1008`,
 * and gives the socket's tasks back.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_BAD_MESSAGES, POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { QueueObject } from "../../../durable-objects/queue/object.ts";
import { objectSideClose, unique } from "../helpers.ts";
import { enqueue, stats } from "../queue/queue-helpers.ts";
import { consumer } from "../queue/stream-helpers.ts";

const FLOOD = 20_000;

afterEach(() => vi.restoreAllMocks());

describe("a consumer socket flooding junk", () => {
  it("never reaches the queue's object: it receives the ack only, and the 1008 that ends the socket", async () => {
    const warn = vi.spyOn(console, "warn");
    const received = vi.spyOn(QueueObject.prototype, "webSocketMessage");
    const objectSideClosed = objectSideClose(QueueObject);
    const q = unique("flood");
    const c = await consumer(q, { prefetch: 5 });
    const [first, second] = await enqueue(q, { tasks: [{ payload: 1 }, { payload: 2 }] });
    await c.until(() => c.held.has(first as string) && c.held.has(second as string), "two pushed tasks");
    const ack = JSON.stringify({
      type: "ack",
      acks: [{ id: first, leaseId: c.held.get(first as string)?.leaseId }],
    });
    // The flood follows the ack at once: the relay's answers wait behind the object's.
    c.send(ack);
    for (let i = 0; i < FLOOD; i++) c.send(`junk ${i}`);

    expect((await c.closed).code).toBe(POLICY_VIOLATION);
    expect(await objectSideClosed).toBe(POLICY_VIOLATION);
    expect(received.mock.calls.map(([, message]) => message)).toEqual([ack]);
    // Each bad frame up to the close is answered as the object answered it, in turn; the rest are dropped.
    const [acked, ...errors] = c.messages.filter((m) => m.type !== "tasks");
    expect(acked).toMatchObject({ type: "acked", results: [{ id: first, ok: true }] });
    expect(errors.length).toBe(MAX_BAD_MESSAGES + 1);
    for (const e of errors) {
      expect(e).toEqual({
        type: "error",
        error: { code: "invalid_request", message: "message is not JSON" },
      });
    }
    const lines = warn.mock.calls.filter((w) => String(w[0]).includes("queue: a socket sent a bad message"));
    expect(lines.length).toBe(1);
    // The unacked task went back to ready when the object heard the close.
    expect(await stats(q)).toMatchObject({ leased: 0, ready: { normal: 1 }, totals: { recovered: 1 } });
  });
});
