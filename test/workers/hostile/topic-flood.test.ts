/**
 * Issue 22, "20,000 junk frames on one topic WebSocket": the socket is closed with 1008 after ten
 * bad messages, and what it had already sent before the close reached it costs the topic nothing:
 * no more closes, no storage work, no answers.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TopicStore } from "../../../durable-objects/bus/store.ts";
import { MAX_BAD_MESSAGES, POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import { connect, publish } from "../bus/helpers.ts";
import { unique } from "../helpers.ts";

const FLOOD = 2_000;

afterEach(() => vi.restoreAllMocks());

describe("a topic socket flooding junk", () => {
  it("is closed once; the frames it sent after its eleventh bad one are dropped unprocessed", async () => {
    const topic = unique("flood");
    const sub = await connect(topic);
    const forgotten = vi.spyOn(TopicStore.prototype, "forgetSocket");
    const closed = new Promise<number>((resolve) => sub.ws.addEventListener("close", (e) => resolve(e.code)));
    for (let i = 0; i < MAX_BAD_MESSAGES + 1 + FLOOD; i++) sub.ws.send(`junk ${i}`);
    expect(await closed).toBe(POLICY_VIOLATION);
    // The topic's next caller comes after every frame the socket sent.
    expect(await publish(topic, { type: "after" })).toHaveLength(1);
    await env.TOPICS.getByName(topic).stats();
    // Once at the close (and once more at most, when the runtime reports the close).
    expect(forgotten.mock.calls.length).toBeLessThanOrEqual(2);
    expect(sub.buffered().filter((m) => m.type === "error")).toHaveLength(MAX_BAD_MESSAGES);
  });
});
