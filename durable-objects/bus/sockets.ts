/**
 * A topic's WebSocket subscribers: hibernatable sockets that carry their filter in their
 * attachment, get retained events replayed on connect, new events as they are published, and
 * critical events sent again until they acknowledge them. A replay goes in steps of at most
 * {@link REPLAY_STEP_BYTES}, each sent once the socket has passed on what it buffered, so a
 * slow reader never makes the object hold more than a step; a socket that sends more than
 * {@link MAX_BAD_MESSAGES} bad messages is closed with 1008 (API 1.2).
 */

import type { BusEventValue } from "../../shared/schemas/bus.ts";
import { answerClose } from "../lib/socket-close.ts";
import { matchesFilter } from "../logic/filter.ts";
import { fitPage } from "../logic/page-budget.ts";
import { closing, MAX_BAD_MESSAGES, POLICY_VIOLATION, strike } from "../logic/socket-strikes.ts";
import { EVENT_PAGE, type EventRow, type TopicStore } from "./store.ts";

/** A critical event sent to a WebSocket is sent again after this long without an ack. */
export const ACK_TIMEOUT_MS = 10_000;

/** Most event text one replay step reads and sends. */
export const REPLAY_STEP_BYTES = 1024 * 1024;

/** A replay waits while the socket has more than this buffered, checking every {@link REPLAY_WAIT_MS}. */
const REPLAY_HIGH_WATER = 1024 * 1024;
const REPLAY_WAIT_MS = 20;

/** What each hibernatable socket carries across hibernation. */
interface SocketAttachment {
  id: string;
  filter: string[];
  /** While replaying: the next seq to send. Live events wait for the replay to reach them. */
  replayFrom?: number;
  /** Bad messages received so far. */
  bad?: number;
}

/** What the sockets need from the topic object. */
export interface SocketsHost {
  /** The object's clock (see `SqlObject.clock`). */
  now(): number;
  /** An event row as subscribers see it (it knows the topic's name). */
  toEvent(row: EventRow): BusEventValue;
  /** Rows changed outside a call of the object (a replay step): re-aim the alarm. */
  changed(): void;
  /** Keeps the object alive until `work` settles. */
  keepAlive(work: Promise<void>): void;
}

/** The attachment of a socket this topic accepted; undefined for any other. */
function attachment(ws: WebSocket): SocketAttachment | undefined {
  const value = ws.deserializeAttachment() as SocketAttachment | null;
  return value && typeof value.id === "string" ? value : undefined;
}

/** The sockets of one topic; every change it makes is in the store; the object re-aims the alarm. */
export class TopicSockets {
  private readonly ctx: DurableObjectState;
  private readonly store: TopicStore;
  private readonly host: SocketsHost;
  /** Sockets whose replay runs in this isolate (one that hibernated mid-replay is restarted). */
  private readonly replaying = new Set<string>();

  constructor(ctx: DurableObjectState, store: TopicStore, host: SocketsHost) {
    this.ctx = ctx;
    this.store = store;
    this.host = host;
  }

  /**
   * Accepts a new subscriber for hibernation and, with `fromSeq`, starts sending it the retained
   * events from there on; returns the client end for the 101 response.
   */
  accept(filter: string[], fromSeq: number | undefined): WebSocket {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const socket: SocketAttachment = { id: crypto.randomUUID(), filter };
    if (fromSeq !== undefined) socket.replayFrom = fromSeq;
    this.ctx.acceptWebSocket(server, [socket.id]);
    server.serializeAttachment(socket);
    if (fromSeq !== undefined) this.startReplay(server, socket);
    return client;
  }

  /** Sends a newly published event to every socket whose filter matches it. */
  broadcast(row: EventRow, now: number): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const message = this.message(row);
    for (const ws of sockets) {
      const socket = attachment(ws);
      if (!socket) continue;
      // A replay sends this event when it gets there.
      if (socket.replayFrom !== undefined) this.startReplay(ws, socket);
      else if (matchesFilter(socket.filter, row.type)) this.send(ws, socket.id, row, message, now);
    }
  }

  /**
   * `{"type": "ack", "seq"}` settles a critical event. Anything else is answered with an error
   * message, logged once per socket, and the socket closed with 1008 once it has sent more than
   * {@link MAX_BAD_MESSAGES}. Returns true when it changed rows.
   */
  receive(ws: WebSocket, message: string | ArrayBuffer): boolean {
    const socket = attachment(ws);
    if (!socket || closing(socket.bad ?? 0)) return false;
    const parsed = clientMessage(message);
    if (parsed?.type === "ack") {
      this.store.ack(socket.id, parsed.seq);
      return true;
    }
    // The runtime answers the exact text '{"type":"ping"}'; other spellings of it reach us.
    if (parsed?.type === "ping") {
      trySend(ws, PONG);
      return false;
    }
    const hit = strike(socket.bad ?? 0);
    socket.bad = hit.count;
    // Kept before a close too: the frames still arriving from a closed socket are then dropped.
    ws.serializeAttachment(socket);
    if (hit.log) {
      console.warn(
        `topic: socket ${socket.id} sent a message that is not an ack (further ones are not logged)`,
      );
    }
    if (hit.close) {
      answerClose(ws, POLICY_VIOLATION, "too many bad messages");
      this.store.forgetSocket(socket.id);
      return true;
    }
    trySend(ws, BAD_MESSAGE);
    return false;
  }

  /** Drops what a closed socket still had to acknowledge; returns true when it was one of ours. */
  forget(ws: WebSocket): boolean {
    const socket = attachment(ws);
    if (!socket) return false;
    this.store.forgetSocket(socket.id);
    return true;
  }

  /** Sends critical events again to sockets that have not acknowledged them in time. */
  resendOverdue(now: number): void {
    const due = this.store.overdueAcks(now, EVENT_PAGE);
    if (due.length === 0) return;
    const open = new Map<string, WebSocket>();
    for (const ws of this.ctx.getWebSockets()) {
      const socket = attachment(ws);
      if (socket) open.set(socket.id, ws);
    }
    for (const { seq, socket_id } of due) {
      const ws = open.get(socket_id);
      const row = this.store.event(seq);
      if (!ws || !row) {
        this.store.ack(socket_id, seq);
        continue;
      }
      this.send(ws, socket_id, row, this.message(row), now);
    }
  }

  /** Starts replaying to a socket unless its replay already runs here. */
  private startReplay(ws: WebSocket, socket: SocketAttachment): void {
    if (this.replaying.has(socket.id)) return;
    this.replaying.add(socket.id);
    const work = this.replay(ws, socket.id)
      .catch((err) => console.error("topic: a WebSocket replay failed", err))
      .finally(() => this.replaying.delete(socket.id));
    this.host.keepAlive(work);
  }

  /**
   * Sends retained events from the socket's `replayFrom` on, in seq order, a step at a time,
   * each once the socket's buffer has drained, until none is left: then the socket goes live.
   * Each step reads sizes first and only the events it sends whole.
   */
  private async replay(ws: WebSocket, socketId: string): Promise<void> {
    for (;;) {
      while (ws.readyState === WebSocket.OPEN && ws.bufferedAmount > REPLAY_HIGH_WATER) {
        await new Promise((resolve) => setTimeout(resolve, REPLAY_WAIT_MS));
      }
      const socket = attachment(ws);
      if (ws.readyState !== WebSocket.OPEN || socket?.id !== socketId || socket.replayFrom === undefined)
        return;
      const heads = this.store.eventHeads(socket.replayFrom, EVENT_PAGE);
      const last = heads[heads.length - 1];
      if (!last) {
        // Caught up: from now on, published events reach this socket as they come.
        delete socket.replayFrom;
        ws.serializeAttachment(socket);
        return;
      }
      const matching = heads.filter((h) => matchesFilter(socket.filter, h.type));
      const n = fitPage(matching, EVENT_PAGE, REPLAY_STEP_BYTES);
      const now = this.host.now();
      for (const row of this.store.eventsIn(matching.slice(0, n).map((h) => h.seq))) {
        this.send(ws, socket.id, row, this.message(row), now);
      }
      socket.replayFrom = n < matching.length ? (matching[n] as { seq: number }).seq : last.seq + 1;
      ws.serializeAttachment(socket);
      this.host.changed();
      // Lets the socket's buffer and the object's other callers go first.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  private message(row: EventRow): string {
    return JSON.stringify({ type: "event", event: this.host.toEvent(row) });
  }

  /** Sends one event; a critical one is expected back as an ack within {@link ACK_TIMEOUT_MS}. */
  private send(ws: WebSocket, socketId: string, row: EventRow, message: string, now: number): void {
    if (trySend(ws, message) && row.critical === 1)
      this.store.expectAck(row.seq, socketId, now + ACK_TIMEOUT_MS);
  }
}

const BAD_MESSAGE = JSON.stringify({
  type: "error",
  error: {
    code: "invalid_request",
    message: 'expected {"type": "ack", "seq": <integer>} or {"type": "ping"}',
  },
});

const PONG = JSON.stringify({ type: "pong" });

/** A well-formed client message (an ack or a ping), else undefined. */
function clientMessage(
  message: string | ArrayBuffer,
): { type: "ack"; seq: number } | { type: "ping" } | undefined {
  if (typeof message !== "string") return undefined;
  try {
    const parsed = JSON.parse(message) as { type?: unknown; seq?: unknown } | null;
    if (parsed?.type === "ping") return { type: "ping" };
    if (parsed?.type === "ack" && Number.isSafeInteger(parsed.seq))
      return { type: "ack", seq: parsed.seq as number };
    return undefined;
  } catch {
    return undefined;
  }
}

/** Sends on a socket that may have closed meanwhile; false when it could not. */
function trySend(ws: WebSocket, message: string): boolean {
  try {
    ws.send(message);
    return true;
  } catch {
    return false;
  }
}
