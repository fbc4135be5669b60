/**
 * A topic's WebSocket subscribers: hibernatable sockets that carry their filter in their
 * attachment, get retained events replayed on connect, new events as they are published, and
 * critical events sent again until they acknowledge them. Each socket leads to the Worker's relay
 * (workers/http/socket-relay.ts), which holds the client's socket, answers pings and bad messages
 * and forwards only acks, a few at a time: each is receipted with {@link FRAME_TAKEN}. A replay goes
 * in steps of at most {@link REPLAY_STEP_BYTES}, the next sent when the relay says the client has
 * taken the last (logic/relay-frames.ts), so a slow reader never makes the object or the relay hold
 * more than a step.
 */

import type { BusEventValue } from "../../shared/schemas/bus.ts";
import { matchesFilter } from "../logic/filter.ts";
import { fitPage } from "../logic/page-budget.ts";
import { FRAME_TAKEN, STEP_SENT, STEP_TAKEN } from "../logic/relay-frames.ts";
import { topicClientMessage } from "../logic/topic-messages.ts";
import { EVENT_PAGE, type EventRow, type TopicStore } from "./store.ts";

/** A critical event sent to a WebSocket is sent again after this long without an ack. */
export const ACK_TIMEOUT_MS = 10_000;

/** Most event text one replay step reads and sends. */
export const REPLAY_STEP_BYTES = 1024 * 1024;

/** What each hibernatable socket carries across hibernation. */
interface SocketAttachment {
  id: string;
  filter: string[];
  /** While replaying: the next seq to send. Live events wait for the replay to reach them. */
  replayFrom?: number;
}

/** What the sockets need from the topic object. */
export interface SocketsHost {
  /** The object's clock (see `SqlObject.clock`). */
  now(): number;
  /** An event row as subscribers see it (it knows the topic's name). */
  toEvent(row: EventRow): BusEventValue;
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

  constructor(ctx: DurableObjectState, store: TopicStore, host: SocketsHost) {
    this.ctx = ctx;
    this.store = store;
    this.host = host;
  }

  /**
   * Accepts a new subscriber for hibernation and, with `fromSeq`, sends it the first step of the
   * retained events from there on; returns the relay's end for the 101 response.
   */
  accept(filter: string[], fromSeq: number | undefined): WebSocket {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const socket: SocketAttachment = { id: crypto.randomUUID(), filter };
    if (fromSeq !== undefined) socket.replayFrom = fromSeq;
    this.ctx.acceptWebSocket(server, [socket.id]);
    server.serializeAttachment(socket);
    this.replayStep(server, socket);
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
      if (socket.replayFrom === undefined && matchesFilter(socket.filter, row.type))
        this.send(ws, socket.id, row, message, now);
    }
  }

  /**
   * What the relay forwards: `{"type": "ack", "seq"}` settles a critical event, and
   * {@link STEP_TAKEN} asks for the next replay step. The relay answers everything else itself.
   */
  receive(ws: WebSocket, message: string | ArrayBuffer): void {
    const socket = attachment(ws);
    if (!socket) return;
    if (message === STEP_TAKEN) {
      this.replayStep(ws, socket);
      return;
    }
    const parsed = topicClientMessage(message);
    if (parsed?.type !== "ack") return;
    try {
      this.store.ack(socket.id, parsed.seq);
    } finally {
      // An ack has no answer: the receipt lets the relay forward the next frame it holds, even
      // when this one failed (else the socket's later acks would wait forever).
      trySend(ws, FRAME_TAKEN);
    }
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

  /**
   * Sends the retained events from the socket's `replayFrom` on, in seq order, up to
   * {@link REPLAY_STEP_BYTES}, then {@link STEP_SENT}: the relay's answer brings the next step.
   * With none left the socket goes live. Reads sizes first and only the events it sends whole.
   */
  private replayStep(ws: WebSocket, socket: SocketAttachment): void {
    if (socket.replayFrom === undefined) return;
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
    trySend(ws, STEP_SENT);
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

/** Sends on a socket that may have closed meanwhile; false when it could not. */
function trySend(ws: WebSocket, message: string): boolean {
  try {
    ws.send(message);
    return true;
  } catch {
    return false;
  }
}
