/**
 * What a topic's WebSocket subscriber may send (`{"type": "ack", "seq"}`, `{"type": "ping"}`) and
 * the answers it gets; the Worker's relay checks every frame with it, the object reads the acks.
 */
import type { BusEventValue } from "../../shared/schemas/bus.ts";

/** What a subscriber receives: events, the answer to a ping, the answer to a bad message. */
export type TopicServerMessage =
  | { type: "event"; event: BusEventValue }
  | { type: "pong" }
  | { type: "error"; error: { code: string; message: string } };

/** A well-formed subscriber message. */
export type TopicClientMessage = { type: "ack"; seq: number } | { type: "ping" };

/**
 * A well-formed subscriber message, else undefined. An unknown field makes it malformed, as it
 * does a request body (API.md 1.1) and a consumer socket's message.
 */
export function topicClientMessage(message: string | ArrayBuffer): TopicClientMessage | undefined {
  if (typeof message !== "string") return undefined;
  try {
    const parsed = JSON.parse(message) as { type?: unknown; seq?: unknown } | null;
    const fields = parsed !== null && typeof parsed === "object" ? Object.keys(parsed).length : 0;
    if (parsed?.type === "ping" && fields === 1) return { type: "ping" };
    if (parsed?.type === "ack" && fields === 2 && Number.isSafeInteger(parsed.seq))
      return { type: "ack", seq: parsed.seq as number };
    return undefined;
  } catch {
    return undefined;
  }
}

/** The ack as the relay forwards it to the object. */
export const ackFrame = (seq: number): string => JSON.stringify({ type: "ack", seq });

/** The answer to any other message. */
export const BAD_TOPIC_MESSAGE = JSON.stringify({
  type: "error",
  error: {
    code: "invalid_request",
    message: 'expected {"type": "ack", "seq": <integer>} or {"type": "ping"}',
  },
});

export const PONG = JSON.stringify({ type: "pong" });
