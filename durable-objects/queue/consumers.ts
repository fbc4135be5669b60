/**
 * A queue's streaming consumers: hibernatable WebSockets that the object pushes leased tasks to
 * while they have credit (fewer unsettled tasks than their `prefetch`), round-robin between
 * sockets. This module keeps the bookkeeping (which socket holds which task, until when), reads and
 * checks what clients send, and rebuilds itself from the sockets' attachments and the leased rows
 * after hibernation or a restart. Taking tasks, acks and returning a closed socket's tasks are the
 * object's: it runs them in its transactions.
 *
 * A pushed task's lease id is `ws:<socket id>:<nonce>.<seq>`, so the leased rows alone say which
 * socket holds what (nothing else is stored per push).
 */

import { type ErrorInfo, fail, type Result } from "../../shared/errors.ts";
import {
  CONSUMER_MESSAGES,
  type ConsumerMessage,
  type ServerMessage,
} from "../../shared/schemas/queue-stream.ts";
import { parseInput } from "../../workers/http/validation.ts";
import { planPushes } from "../logic/push-plan.ts";
import type { LeaseObserver, StreamStore } from "./stream-store.ts";
import type { LeasedText } from "./task-list.ts";

/** How every push message starts; any other message of the object's answers a client's message. */
export const PUSH_START = '{"type":"tasks","tasks":';
/** Every pushed task's lease id starts with this (HTTP lease ids are bare UUIDs). */
const PUSH_PREFIX = "ws:";
/**
 * The least a socket with that much credit is given per turn of the round robin (the default
 * prefetch): fair shares of a small batch would make many small pushes, and every push costs the
 * client an ack message and the object a transaction, whatever its size. Measured with 8 sockets
 * and batches of 100: 32 a turn gave 0.72× BullMQ, 100 a turn 0.86×, in back-to-back runs.
 */
const MIN_TURN = 100;
/**
 * A push message stops adding tasks past this much JSON text (it always carries one): at most
 * 3 bytes a character, that keeps it under the 1 MiB a Workers WebSocket client accepts.
 */
const MAX_PUSH_CHARS = 300_000;

/** What each consumer socket carries across hibernation. */
interface ConsumerAttachment {
  kind: "consumer";
  id: string;
  queue: string;
  prefetch: number;
  visibilityMs: number;
  /** Set when the server closed the socket: it takes no more pushes, even before its close event. */
  closed?: boolean;
}

/** An open consumer socket and the tasks it holds: seq → lease expiry. */
interface Consumer {
  ws: WebSocket;
  socket: ConsumerAttachment;
  held: Map<number, number>;
}

/** Tasks taken for one socket in the running transaction, sent once it commits. */
export interface Push {
  ws: WebSocket;
  tasks: LeasedText[];
}

/** A lease to give back because its socket is gone: the task, and the prefix its lease id must have. */
export interface Orphan {
  seq: number;
  prefix: string;
}

function attachment(ws: WebSocket): ConsumerAttachment | undefined {
  const value = ws.deserializeAttachment() as ConsumerAttachment | null;
  return value?.kind === "consumer" ? value : undefined;
}

const socketPrefix = (id: string) => `${PUSH_PREFIX}${id}:`;

/** The socket id in a pushed task's lease id. */
function socketOf(leaseId: string): string | undefined {
  if (!leaseId.startsWith(PUSH_PREFIX)) return undefined;
  const end = leaseId.indexOf(":", PUSH_PREFIX.length);
  return end < 0 ? undefined : leaseId.slice(PUSH_PREFIX.length, end);
}

/** Sends a message, ignoring a socket that is already gone (its close event follows). */
export function sendTo(ws: WebSocket, message: ServerMessage | string): void {
  try {
    ws.send(typeof message === "string" ? message : JSON.stringify(message));
  } catch (err) {
    console.warn("queue: WebSocket send failed", err);
  }
}

export class QueueConsumers implements LeaseObserver {
  private readonly ctx: DurableObjectState;
  /** Open sockets by id, in the order they connected. */
  private readonly consumers = new Map<string, Consumer>();
  /** Which socket holds each pushed task. */
  private readonly owner = new Map<number, string>();
  /** Leases of sockets that closed, given back by the object's next transaction. */
  private orphans: Orphan[] = [];
  /** Round robin: the socket after the one served last (by connection order) goes first next. */
  private turn = 0;

  constructor(ctx: DurableObjectState) {
    this.ctx = ctx;
  }

  /** Whether any socket is open (the object skips filling when none is). */
  get open(): boolean {
    return this.consumers.size > 0;
  }

  /** Accepts a consumer for hibernation; returns the client end for the 101 response. */
  accept(queue: string, prefetch: number, visibilityMs: number): WebSocket {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const socket: ConsumerAttachment = {
      kind: "consumer",
      id: crypto.randomUUID(),
      queue,
      prefetch,
      visibilityMs,
    };
    this.ctx.acceptWebSocket(server, ["consumer"]);
    server.serializeAttachment(socket);
    this.consumers.set(socket.id, { ws: server, socket, held: new Map() });
    return client;
  }

  /**
   * Rebuilds the bookkeeping from the open sockets and the leased rows (after hibernation, a
   * restart, or a transaction that failed). Leases of sockets that are gone become orphans.
   */
  rebuild(store: StreamStore): void {
    this.consumers.clear();
    this.owner.clear();
    this.orphans = [];
    for (const ws of this.ctx.getWebSockets("consumer")) {
      const socket = attachment(ws);
      if (socket && !socket.closed) this.consumers.set(socket.id, { ws, socket, held: new Map() });
    }
    for (const row of store.leasesWithPrefix(PUSH_PREFIX)) {
      const id = socketOf(row.lease_id);
      const consumer = id === undefined ? undefined : this.consumers.get(id);
      if (id === undefined) continue;
      if (!consumer) {
        this.orphans.push({ seq: row.seq, prefix: socketPrefix(id) });
        continue;
      }
      consumer.held.set(row.seq, row.lease_expires_at);
      this.owner.set(row.seq, id);
    }
  }

  leaseEnded(seq: number): void {
    const id = this.owner.get(seq);
    if (id === undefined) return;
    this.owner.delete(seq);
    this.consumers.get(id)?.held.delete(seq);
  }

  leaseExtended(seq: number, leaseExpiresAt: number): void {
    const id = this.owner.get(seq);
    if (id !== undefined) this.consumers.get(id)?.held.set(seq, leaseExpiresAt);
  }

  /** Leases of closed sockets still to give back; the caller gives them back in its transaction. */
  takeOrphans(): Orphan[] {
    const orphans = this.orphans;
    this.orphans = [];
    return orphans;
  }

  /**
   * Takes ready tasks for the sockets with credit as {@link planPushes} shares them (round-robin,
   * fair shares of at least {@link MIN_TURN}). `take(prefix, max, visibilityMs)` leases up to
   * `max` tasks in lease order under lease ids starting with `prefix`; fewer than `max` means
   * nothing more is ready (or the payload budget was reached).
   */
  fill(
    now: number,
    ready: number,
    take: (leasePrefix: string, max: number, visibilityMs: number) => LeasedText[],
  ): Push[] {
    const order = [...this.consumers.values()];
    const plan = planPushes(
      order.map((c) => this.credit(c, now)),
      ready,
      this.turn,
      MIN_TURN,
    );
    const pushes: Push[] = [];
    for (const { socket, count } of plan) {
      const c = order[socket] as Consumer;
      const tasks = take(`${socketPrefix(c.socket.id)}${crypto.randomUUID()}`, count, c.socket.visibilityMs);
      for (const t of tasks) {
        c.held.set(Number(t.id), t.leaseExpiresAt);
        this.owner.set(Number(t.id), c.socket.id);
      }
      if (tasks.length > 0) pushes.push({ ws: c.ws, tasks });
      this.turn = socket + 1;
      if (tasks.length < count) break;
    }
    return pushes;
  }

  /** Sends what {@link fill} took, once its transaction has committed. */
  send(pushes: readonly Push[]): void {
    for (const { ws, tasks } of pushes) {
      let parts: string[] = [];
      let chars = 0;
      const flush = () => {
        sendTo(ws, `${PUSH_START}[${parts.join(",")}]}`);
        parts = [];
        chars = 0;
      };
      for (const task of tasks) {
        const text = task.text;
        if (parts.length > 0 && chars + text.length > MAX_PUSH_CHARS) flush();
        parts.push(text);
        chars += text.length;
      }
      if (parts.length > 0) flush();
    }
  }

  /**
   * Reads a client's message. The Worker's relay forwards well-formed ones only, and answers,
   * counts and closes on bad ones (workers/http/socket-relay.ts), so a bad one here is a bug: it
   * is still answered with the `invalid_request` error and logged. Messages of sockets this module
   * did not accept, and bad ones, are undefined.
   */
  receive(ws: WebSocket, data: string | ArrayBuffer): ConsumerMessage | undefined {
    const socket = attachment(ws);
    if (!socket || !this.consumers.has(socket.id)) return undefined;
    const parsed = parseConsumerMessage(data);
    if (parsed.ok) return parsed.value;
    sendTo(ws, badMessageAnswer(parsed.error));
    console.warn(
      `queue ${socket.queue}: consumer ${socket.id} got a bad message past the relay: ${parsed.error.message}`,
    );
    return undefined;
  }

  /** A socket closed (or failed): its tasks become orphans. False for sockets it did not accept. */
  closed(ws: WebSocket): boolean {
    const socket = attachment(ws);
    if (!socket) return false;
    try {
      // A rebuild (after a failed transaction) must not count it as open while it is listed.
      ws.serializeAttachment({ ...socket, closed: true });
    } catch {
      // A socket past closing takes no attachment; it is no longer listed either.
    }
    this.forget(socket.id);
    return true;
  }

  /** Closes every socket (the queue was deleted) and forgets their tasks, which are gone too. */
  closeAll(code: number, reason: string): void {
    for (const { ws, socket } of [...this.consumers.values()]) this.close(ws, socket, code, reason);
    this.orphans = [];
    this.owner.clear();
  }

  /** Unsettled tasks the socket may still be pushed: expired leases no longer count. */
  private credit(c: Consumer, now: number): number {
    for (const [seq, expiresAt] of c.held) {
      if (expiresAt <= now) {
        c.held.delete(seq);
        this.owner.delete(seq);
      }
    }
    return c.socket.prefetch - c.held.size;
  }

  private close(ws: WebSocket, socket: ConsumerAttachment, code: number, reason: string): void {
    socket.closed = true;
    try {
      ws.serializeAttachment(socket);
      ws.close(code, reason);
    } catch {
      // Already closed.
    }
    this.forget(socket.id);
  }

  private forget(id: string): void {
    const consumer = this.consumers.get(id);
    if (!consumer) return;
    this.consumers.delete(id);
    for (const seq of consumer.held.keys()) {
      this.owner.delete(seq);
      this.orphans.push({ seq, prefix: socketPrefix(id) });
    }
  }
}

/** The answer to a bad message, as the client reads it. */
export const badMessageAnswer = (error: ErrorInfo): string =>
  JSON.stringify({ type: "error", error } satisfies ServerMessage);

/** A client's message, checked against the schema its `type` names (by the relay, then by the object). */
export function parseConsumerMessage(data: string | ArrayBuffer): Result<ConsumerMessage> {
  if (typeof data !== "string") return fail("invalid_request", "messages are JSON text, not binary");
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return fail("invalid_request", "message is not JSON");
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("invalid_request", "message must be a JSON object", { field: "type" });
  }
  if (typeof type !== "string" || !Object.hasOwn(CONSUMER_MESSAGES, type)) {
    return fail("invalid_request", `type: must be one of ${Object.keys(CONSUMER_MESSAGES).join(", ")}`, {
      field: "type",
    });
  }
  return parseInput(CONSUMER_MESSAGES[type as keyof typeof CONSUMER_MESSAGES], value, "message");
}
