/**
 * A topic's WebSocket subscribers: hibernatable sockets that carry their filter in their
 * attachment, get retained events replayed on connect, new events as they are published, and
 * critical events sent again until they acknowledge them.
 */
import type { BusEventValue } from "../../shared/schemas/bus.ts";
import { matchesFilter } from "../logic/filter.ts";
import { EVENT_PAGE, type EventRow, type TopicStore } from "./store.ts";

/** A critical event sent to a WebSocket is sent again after this long without an ack. */
export const ACK_TIMEOUT_MS = 10_000;

/** What each hibernatable socket carries across hibernation. */
interface SocketAttachment {
  id: string;
  filter: string[];
}

/** The attachment of a socket this topic accepted; undefined for any other. */
function attachment(ws: WebSocket): SocketAttachment | undefined {
  const value = ws.deserializeAttachment() as SocketAttachment | null;
  return value && typeof value.id === "string" ? value : undefined;
}

/** Answers a client's close; codes that cannot be sent back (1005, 1006) are answered with 1000. */
export function answerClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed by the runtime's automatic close reply.
  }
}

/** The sockets of one topic; every change it makes is in the store, for the object to commit. */
export class TopicSockets {
  private readonly ctx: DurableObjectState;
  private readonly store: TopicStore;
  private readonly toEvent: (row: EventRow) => BusEventValue;

  /** `toEvent` turns a row into the event sockets receive (it knows the topic's name). */
  constructor(ctx: DurableObjectState, store: TopicStore, toEvent: (row: EventRow) => BusEventValue) {
    this.ctx = ctx;
    this.store = store;
    this.toEvent = toEvent;
  }

  /**
   * Accepts a new subscriber for hibernation and, with `fromSeq`, sends it the retained events
   * from there on; returns the client end for the 101 response.
   */
  accept(filter: string[], fromSeq: number | undefined, now: number): WebSocket {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const socket: SocketAttachment = { id: crypto.randomUUID(), filter };
    this.ctx.acceptWebSocket(server, [socket.id]);
    server.serializeAttachment(socket);
    if (fromSeq !== undefined) this.replay(server, socket, fromSeq, now);
    return client;
  }

  /** Sends a newly published event to every socket whose filter matches it. */
  broadcast(row: EventRow, now: number): void {
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const message = this.message(row);
    for (const ws of sockets) {
      const socket = attachment(ws);
      if (socket && matchesFilter(socket.filter, row.type)) this.send(ws, socket.id, row, message, now);
    }
  }

  /**
   * `{"type": "ack", "seq"}` settles a critical event; anything else is ignored. Returns true when
   * it changed rows.
   */
  receive(ws: WebSocket, message: string | ArrayBuffer): boolean {
    const socket = attachment(ws);
    if (!socket || typeof message !== "string") return false;
    try {
      const parsed = JSON.parse(message) as { type?: unknown; seq?: unknown };
      if (parsed.type === "ack" && Number.isSafeInteger(parsed.seq)) {
        this.store.ack(socket.id, parsed.seq as number);
        return true;
      }
    } catch (err) {
      console.warn("topic: ignoring a WebSocket message that is not JSON", err);
    }
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

  /** Sends retained events from `fromSeq` on to a new socket, in seq order. */
  private replay(ws: WebSocket, socket: SocketAttachment, fromSeq: number, now: number): void {
    let next = fromSeq;
    for (;;) {
      const rows = this.store.eventsFrom(next, EVENT_PAGE);
      for (const row of rows) {
        if (matchesFilter(socket.filter, row.type)) this.send(ws, socket.id, row, this.message(row), now);
      }
      if (rows.length < EVENT_PAGE) return;
      next = (rows[rows.length - 1] as EventRow).seq + 1;
    }
  }

  private message(row: EventRow): string {
    return JSON.stringify({ type: "event", event: this.toEvent(row) });
  }

  /** Sends one event; a critical one is expected back as an ack within {@link ACK_TIMEOUT_MS}. */
  private send(ws: WebSocket, socketId: string, row: EventRow, message: string, now: number): void {
    try {
      ws.send(message);
    } catch (err) {
      console.warn("topic: WebSocket send failed", err);
      return;
    }
    if (row.critical === 1) this.store.expectAck(row.seq, socketId, now + ACK_TIMEOUT_MS);
  }
}
