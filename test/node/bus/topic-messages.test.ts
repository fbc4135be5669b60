/** What a topic's WebSocket subscriber may send: an ack or a ping, exactly. */
import { describe, expect, it } from "vitest";
import { topicClientMessage } from "../../../durable-objects/logic/topic-messages.ts";

describe("topicClientMessage", () => {
  it("reads an ack and a ping", () => {
    expect(topicClientMessage('{"type":"ack","seq":7}')).toEqual({ type: "ack", seq: 7 });
    expect(topicClientMessage('{ "type": "ping" }')).toEqual({ type: "ping" });
  });

  it.each([
    ['{"type":"ack","seq":1,"extra":true}', "an ack with an unknown field"],
    ['{"type":"ping","x":1}', "a ping with an unknown field"],
    ['{"type":"ack"}', "an ack without its seq"],
    ['{"type":"ack","seq":1.5}', "a seq that is not an integer"],
    ['{"type":"ack","seq":"1"}', "a seq as a string"],
    ['["ack", 1]', "an array"],
    ["null", "null"],
    ["not json", "text that is not JSON"],
  ])("refuses %s (%s)", (frame) => {
    expect(topicClientMessage(frame)).toBeUndefined();
  });

  it("refuses a binary frame", () => {
    expect(topicClientMessage(new TextEncoder().encode('{"type":"ping"}').buffer)).toBeUndefined();
  });
});
