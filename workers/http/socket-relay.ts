/**
 * A WebSocket route whose object must not receive what a client floods. The Worker holds the
 * client's socket and forwards to the object's own (hibernatable) socket only the frames the route
 * calls well-formed, a few at a time (forward-window.ts); every other frame is answered here (the
 * one past the limit too), logged once per socket, and past ten of them the client is closed with
 * `1008`, what it still sends is dropped unread (logic/socket-strikes.ts), and the caller cools
 * down before its next socket (socket-cooldown.ts). An object receives each frame as one
 * hibernation event, which costs its thread far more than the relay's listener does
 * (docs/limits.md), and its other callers wait behind those events. The object's frames pass
 * through, except the pacing frames of logic/relay-frames.ts. A socket opened with a scoped token
 * is closed once the token expires or is revoked (socket-admission.ts).
 */
import { answerClose } from "../../durable-objects/lib/socket-close.ts";
import {
  CLIENT_HIGH_WATER,
  FRAME_TAKEN,
  STEP_SENT,
  STEP_TAKEN,
} from "../../durable-objects/logic/relay-frames.ts";
import { closing, POLICY_VIOLATION, strike } from "../../durable-objects/logic/socket-strikes.ts";
import { TOKEN_LAPSED_REASON } from "../../shared/errors.ts";
import { AnswerOrder } from "./answer-order.ts";
import { ForwardWindow } from "./forward-window.ts";
import { type Admission, TOKEN_RECHECK_MS } from "./socket-admission.ts";
import { coolDown } from "./socket-cooldown.ts";

/** How often a paced replay checks whether the client has taken its step. */
const DRAIN_CHECK_MS = 20;

/** What a route's client may send. */
export interface RelayRules {
  /** Names the route in the one log line per socket. */
  route: string;
  /** A client frame: the text to forward to the object, an answer to send back, or a bad frame's answer. */
  classify(frame: string | ArrayBuffer): { forward: string } | { answer: string } | { bad: string };
  /**
   * For a route whose object answers every forwarded frame, once and in order: whether a frame of
   * the object's is such an answer. The client then reads all answers in the order of its frames
   * (answer-order.ts), the bad frame that closes the socket is answered too, and the close waits
   * for the answers still owed. An object that has no answer for a forwarded frame sends
   * `FRAME_TAKEN` instead: either way the relay learns the frame was taken (forward-window.ts).
   */
  isAnswer?(frame: string | ArrayBuffer): boolean;
}

/**
 * Opens a socket on an object (`target` names what it streams) and relays the client to it; the
 * object's own answer passes through when it refuses the upgrade. The object trusts `target`'s
 * parameters: validate them first.
 */
export async function relayToObject(
  object: { fetch(request: Request): Promise<Response> },
  target: URL,
  rules: RelayRules,
  admission: Admission,
): Promise<Response> {
  const res = await object.fetch(new Request(target, { headers: { upgrade: "websocket" } }));
  return res.webSocket ? relaySocket(res.webSocket, rules, admission) : res;
}

/**
 * Relays between a new client socket and `upstream`, the object's socket; returns the 101. The
 * admission's caller cools down if the client is closed for bad frames; a lapsed token closes both.
 */
function relaySocket(upstream: WebSocket, rules: RelayRules, { caller, lapsed }: Admission): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  upstream.accept();
  const answers = new AnswerOrder((text) => trySend(server, text));
  const paced = new ForwardWindow((text) => trySend(upstream, text));
  let bad = 0;
  let flooded = false;
  server.addEventListener("message", ({ data }) => {
    if (closing(bad) || flooded) return;
    const frame = rules.classify(data);
    if ("forward" in frame) {
      if (rules.isAnswer) answers.forwarded();
      if (paced.forward(frame.forward)) return;
      // More waiting than the object can take in time: a flood, though well-formed.
      flooded = true;
      console.warn(`${rules.route}: a socket sent more than the object could take; closed`);
      coolDown(caller);
      closeObjectFirst(upstream, server, POLICY_VIOLATION, "too many messages waiting");
      return;
    }
    if ("answer" in frame) return answers.answer(frame.answer);
    const hit = strike(bad);
    bad = hit.count;
    if (hit.log) console.warn(`${rules.route}: a socket sent a bad message (further ones are not logged)`);
    if (!hit.close || rules.isAnswer) answers.answer(frame.bad);
    if (hit.close) {
      coolDown(caller);
      answers.onceSettled(() =>
        closeObjectFirst(upstream, server, POLICY_VIOLATION, "too many bad messages"),
      );
    }
  });
  upstream.addEventListener("message", ({ data }) => {
    if (data === STEP_SENT) void answerWhenTaken(server, upstream);
    else if (data === FRAME_TAKEN) paced.taken();
    else if (rules.isAnswer?.(data)) {
      paced.taken();
      answers.objectAnswered(String(data));
    } else trySend(server, data);
  });
  // A close or an error on either side closes both.
  server.addEventListener("close", ({ code, reason }) => {
    answerClose(upstream, code, reason);
    answerClose(server, code, reason);
  });
  upstream.addEventListener("close", ({ code, reason }) => {
    answerClose(server, code, reason);
    answerClose(upstream, code, reason);
  });
  server.addEventListener("error", () => answerClose(upstream, 1011, "the client's socket failed"));
  upstream.addEventListener("error", () => answerClose(server, 1011, "the object's socket failed"));
  if (lapsed) closeWhenLapsed(server, upstream, lapsed);
  return new Response(null, { status: 101, webSocket: client });
}

/**
 * Checks the socket's token every {@link TOKEN_RECHECK_MS} while both sides are open, and closes
 * both `1008` once it has expired or been revoked, or `1011` when the registry cannot say (as a
 * request with that token would be refused `503`). Frames still waiting in the relay's window are
 * dropped with the socket.
 */
function closeWhenLapsed(client: WebSocket, upstream: WebSocket, lapsed: () => Promise<boolean>): void {
  const timer = setInterval(async () => {
    if (client.readyState !== WebSocket.OPEN || upstream.readyState !== WebSocket.OPEN) {
      return clearInterval(timer);
    }
    try {
      if (await lapsed()) closeObjectFirst(upstream, client, POLICY_VIOLATION, TOKEN_LAPSED_REASON);
    } catch (err) {
      console.error("token check of an open socket failed", err);
      closeObjectFirst(upstream, client, 1011, "the token registry is unavailable");
    }
  }, TOKEN_RECHECK_MS);
  for (const ws of [client, upstream]) ws.addEventListener("close", () => clearInterval(timer));
}

/**
 * Closes a relayed socket from the relay's side: the object first, so that it settles the socket's
 * state (a consumer's tasks back to the queue) before the client can ask about it.
 */
function closeObjectFirst(upstream: WebSocket, client: WebSocket, code: number, reason: string): void {
  answerClose(upstream, code, reason);
  answerClose(client, code, reason);
}

/** Answers a replay step once the client's socket has passed on all but {@link CLIENT_HIGH_WATER}. */
async function answerWhenTaken(client: WebSocket, upstream: WebSocket): Promise<void> {
  while (client.readyState === WebSocket.OPEN && client.bufferedAmount > CLIENT_HIGH_WATER) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_CHECK_MS));
  }
  if (client.readyState === WebSocket.OPEN) trySend(upstream, STEP_TAKEN);
}

/** Sends on a socket that may have closed meanwhile. */
function trySend(ws: WebSocket, message: string | ArrayBuffer): void {
  try {
    ws.send(message);
  } catch {
    // Closed: its close listener closes the other side.
  }
}
