/**
 * One object per state namespace: versioned keys (one counter per namespace, like etcd's
 * revision), TTL expiry on the alarm, a bounded change log, and subscribers on hibernatable
 * WebSockets that receive every change in version order. Each socket leads to the Worker's relay
 * (workers/http/socket-relay.ts), which holds the client's socket and answers whatever the client
 * sends, so the object only hears the relay's replay pacing (logic/relay-frames.ts). The rules live in
 * `logic/state-writes.ts`; this class loads entries, applies planned writes and fans them out.
 */
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import { utf8Bytes } from "../../shared/schemas/common.ts";
import type { MirrorStatus } from "../../shared/schemas/mirror.ts";
import {
  type Deleted,
  decodeCursor,
  encodeCursor,
  type IncrementInput,
  type IncrementResult,
  type ListInput,
  type ListPage,
  type PreconditionInput,
  type PutInput,
  type PutResult,
  type ReadInput,
  type ReadResult,
  type StateEntry,
  type TxnInput,
  type TxnResult,
} from "../../shared/schemas/state.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import { answerClose } from "../lib/socket-close.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { entriesToDrop, LOG_BOUNDS, resumePlan } from "../logic/change-log.ts";
import { STEP_SENT, STEP_TAKEN } from "../logic/relay-frames.ts";
import {
  keyRead,
  type PlannedWrite,
  planDelete,
  planIncrement,
  planPut,
  planTxn,
  readTooLarge,
  type StoredEntry,
  txnKeys,
} from "../logic/state-writes.ts";
import { StateMirror } from "./mirror.ts";
import { type LogRow, STATE_SCHEMA, StateStore } from "./store.ts";

/** Rows of the change log read per trimming step. */
const TRIM_BATCH = 64;

/**
 * Keys expired per alarm ring; the alarm is re-armed at once for the rest, and a request waits
 * behind one step at most. API.md 1.2 allows 1,000; 100 because locally one workerd thread runs the
 * Worker and every object, so a read's hops can each meet a step: 100 keys is ~4 ms of CPU there
 * and expires ~20,000 keys/s (1,000 a ring was ~35 ms and ~10,000 keys/s).
 */
export const EXPIRY_STEP = 100;

/** Change-log rows dropped per operation (API.md 1.2's step); the alarm goes on with the rest. */
const TRIM_STEP = 1000;

/** Most payload text one replay step sends. */
export const REPLAY_STEP_CHARS = 8 * 1024 * 1024;

/** Change-log rows a replay step reads at a time. */
const REPLAY_ROWS = 500;

/** What a socket keeps across hibernation (the object may hibernate between replay steps). */
interface SocketAttachment {
  prefix: string;
  /** While replaying: the last version sent. Live changes skip the socket until it catches up. */
  replayAfter?: number;
}

/** A change ready to send: its key (for prefix filters) and the message text. */
interface Outgoing {
  key: string;
  text: string;
}

/** The subscription message for a change, with the stored JSON spliced in unparsed. */
function changeMessage(op: string, key: string, version: number, json: string | null): string {
  const value = json === null ? "" : `,"value":${json}`;
  return `{"type":"change","op":"${op}","key":${JSON.stringify(key)}${value},"version":${version}}`;
}

function toEntry(key: string, e: StoredEntry): StateEntry {
  const entry: StateEntry = { key, value: JSON.parse(e.json), version: e.version, updatedAt: e.updatedAt };
  if (e.expiresAt !== null) entry.expiresAt = e.expiresAt;
  return entry;
}

const notFound = <T>(key: string): Result<T> => fail("not_found", `no key ${JSON.stringify(key)}`);

export class StateObject extends SqlObject {
  private readonly store: StateStore;
  private readonly alarmTime: ObjectAlarm;
  /** The namespace's latest version. */
  private version = 0;
  private readonly log = { floor: 0, entries: 0, bytes: 0 };
  /** Set when the meta row needs writing at the end of the operation. */
  private dirty = false;
  /** Where the running operation wants the alarm, pointed there once it has committed. */
  private alarmDue: number | null = null;
  /** Changes of the running operation, sent once it has committed. */
  private outbox: Outgoing[] = [];
  /** Each socket's attachment, read once after hibernation; written through by {@link attach}. */
  private readonly attachments = new WeakMap<WebSocket, SocketAttachment>();
  /** The namespace's mirror into Redis, if one is configured. */
  private readonly mirror: StateMirror;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, STATE_SCHEMA);
    this.store = new StateStore(this.sql);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
    this.mirror = new StateMirror(this.sql, env, {
      now: () => this.clock.now(),
      version: () => this.version,
      settled: () => this.touch(),
      keepAlive: (work) => ctx.waitUntil(work),
    });
  }

  /** The live entry of `key`, or `not_found`. */
  async get(key: string): Promise<Result<StateEntry>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const entry = this.read(key, now);
      return entry ? ok(toEntry(key, entry)) : notFound(key);
    });
  }

  /** Sets `key`; the precondition makes it compare-and-set or create-only. */
  async put(key: string, input: PutInput, pre: PreconditionInput = {}): Promise<Result<PutResult>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const write = planPut(key, input, pre, this.readForWrite(key, now), this.version, now);
      if (!write.ok) return write;
      this.apply(write.value);
      return ok({ key, version: write.value.version });
    });
  }

  /** Deletes `key`: `not_found` when absent, `version_mismatch` when the precondition fails. */
  async delete(key: string, pre: PreconditionInput = {}): Promise<Result<Deleted>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const write = planDelete(key, pre, this.readForWrite(key, now), this.version);
      if (!write.ok) return write;
      this.apply(write.value);
      return ok({ deleted: true as const });
    });
  }

  /** Adds `by` to the number at `key` (an absent key counts from 0). */
  async increment(key: string, input: IncrementInput): Promise<Result<IncrementResult>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const planned = planIncrement(key, input, this.readForWrite(key, now), this.version, now);
      if (!planned.ok) return planned;
      this.apply(planned.value.write);
      return ok({ key, value: planned.value.value, version: planned.value.write.version });
    });
  }

  /** Live keys starting with `prefix`, in key order (UTF-8 byte order), a page at a time. */
  async list(input: ListInput): Promise<Result<ListPage>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const after = input.cursor === undefined ? "" : (decodeCursor(input.cursor) ?? "");
      // Expired keys the alarm has not reached yet are skipped, as a read skips them.
      const rows = this.store.keysFrom(input.prefix, after, now, input.limit + 1);
      const matching = rows.filter((r) => r.key.startsWith(input.prefix));
      const page = matching.slice(0, input.limit);
      const last = page.at(-1);
      return ok({
        items: page.map((r) => ({ key: r.key, version: r.version, updatedAt: r.updated_at })),
        cursor: matching.length > input.limit && last ? encodeCursor(last.key) : null,
      });
    });
  }

  /** Reads `keys` at one namespace version, writing nothing: an expired key reads as absent. */
  async readKeys(input: ReadInput): Promise<Result<ReadResult>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      const entries = input.keys.map((key) => this.read(key, now));
      const tooLarge = readTooLarge(entries, "keys");
      return (
        tooLarge ?? ok({ version: this.version, keys: input.keys.map((key, i) => keyRead(key, entries[i])) })
      );
    });
  }

  /** Runs an etcd-style transaction atomically (see {@link planTxn}). */
  async txn(input: TxnInput): Promise<Result<TxnResult>> {
    await this.ready;
    const now = this.clock.now();
    return this.run(() => {
      // A due key's `expire` takes a version, which the plan's writes must come after: expire them
      // all first, then plan on what is left.
      for (const key of txnKeys(input)) this.readForWrite(key, now);
      const plan = planTxn(input, (key) => this.read(key, now), this.version, now);
      if (!plan.ok) return plan;
      for (const write of plan.value.writes) this.apply(write);
      return ok({ succeeded: plan.value.succeeded, version: this.version, results: plan.value.results });
    });
  }

  /** Mirrors the namespace into Redis under `prefix` (see state/mirror.ts). */
  async putMirror(prefix: string): Promise<Result<MirrorStatus>> {
    await this.ready;
    return this.touch(() => this.mirror.configure(this.name, prefix));
  }

  async getMirror(): Promise<Result<MirrorStatus>> {
    await this.ready;
    return this.touch(() => this.mirror.get());
  }

  async deleteMirror(): Promise<Result<{ deleted: true }>> {
    await this.ready;
    return this.touch(() => this.mirror.remove());
  }

  /**
   * Subscribes a WebSocket (the Worker forwards the upgrade with `prefix` and `fromVersion` already
   * validated): replays or resets first, then every change in version order. The replay goes out
   * in steps (see {@link replayStep}); live changes reach the socket only once it has caught up.
   */
  override async fetch(request: Request): Promise<Response> {
    await this.ready;
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const url = new URL(request.url);
    const prefix = url.searchParams.get("prefix") ?? "";
    const from = url.searchParams.get("fromVersion");
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    const plan = resumePlan(from === null ? undefined : Number(from), this.log.floor, this.version);
    this.attach(server, plan.kind === "replay" ? { prefix, replayAfter: plan.after } : { prefix });
    if (plan.kind === "reset") server.send(JSON.stringify({ type: "reset", version: plan.version }));
    if (plan.kind === "replay") this.replayStep(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * The relay forwards nothing a client sends (subscriptions are one-way, and the relay answers
   * it): only {@link STEP_TAKEN}, which asks for a replay's next step.
   */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.ready;
    if (message === STEP_TAKEN) this.replayStep(ws);
  }

  /** Answers the relay's close so the socket ends cleanly. */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    answerClose(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    console.warn("state subscriber socket failed", error);
  }

  /**
   * Expires keys due by the time the alarm was set for (not the wall clock: an alarm may run late,
   * never early, and `runDurableObjectAlarm` runs it ahead of time in tests), emitting `expire`,
   * at most {@link EXPIRY_STEP} of them, then points the alarm at the next expiry: at once
   * when more are due. Idempotent: a repeated run finds nothing due.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    this.dirty = true;
    this.run(() => ok(this.expireDue(now)));
    await this.mirror.drain(now);
  }

  /** Runs `op` (by default nothing) as an operation that saves the counters and re-points the alarm. */
  private touch<T>(op: () => Result<T> = () => ok(undefined as T)): Result<T> {
    return this.run(() => {
      this.dirty = true;
      return op();
    });
  }

  /** Reads the counters and the mirror's configuration: at start-up and after a failed transaction. */
  protected override load(): void {
    const meta = this.store.meta();
    this.version = meta.version;
    this.alarmTime.restore(meta.alarmAt);
    Object.assign(this.log, meta.log);
    this.dirty = false;
    this.mirror.load();
  }

  /**
   * Runs one operation as a single SQLite transaction: run `op`, trim the log, set the alarm; then
   * send the changes. A failure rolls back storage and reloads the counters. Expiry is not done
   * here (a mass expiry would stall every request): reads skip expired keys and the alarm removes
   * them in steps.
   */
  private run<T>(op: () => Result<T>): Result<T> {
    this.outbox = [];
    this.alarmDue = this.alarmTime.at;
    const result = this.transaction(() => {
      const r = op();
      if (this.dirty) this.trimLogAndSaveCounters();
      return r;
    });
    // Outside the SQL transaction, once the time it records has committed.
    this.alarmTime.aim(this.alarmDue);
    this.broadcast(this.outbox);
    this.outbox = [];
    this.mirror.kick(this.clock.now());
    return result;
  }

  /** The entry of `key` as stored, expired or not. */
  private stored(key: string): StoredEntry | undefined {
    return this.store.entry(key);
  }

  /** The live entry of `key` at `now`: an expired key reads as absent before the alarm removes it. */
  private read(key: string, now: number): StoredEntry | undefined {
    const entry = this.stored(key);
    return entry && (entry.expiresAt === null || entry.expiresAt > now) ? entry : undefined;
  }

  /** As {@link read}, for an operation that writes `key`: an expired key's `expire` comes first. */
  private readForWrite(key: string, now: number): StoredEntry | undefined {
    const entry = this.stored(key);
    if (entry?.expiresAt != null && entry.expiresAt <= now) {
      this.apply({ op: "expire", key, version: this.version + 1 });
      return undefined;
    }
    return entry;
  }

  /** One housekeeping step: expires up to {@link EXPIRY_STEP} keys due at `now`, oldest first. */
  private expireDue(now: number): void {
    const expired = this.store.expireStep(this.version, now, EXPIRY_STEP);
    for (const r of expired) this.record({ op: "expire", key: r.key, version: r.version }, null, r.bytes);
  }

  /** Writes one change: the key row, the log entry, the next message. */
  private apply(write: PlannedWrite): void {
    const json = write.op === "set" ? write.json : null;
    const bytes = utf8Bytes(write.key) + (json === null ? 0 : utf8Bytes(json));
    this.store.write(write, json, bytes);
    this.record(write, json, bytes);
  }

  /** Accounts for a change already written: the counters, the next message, the mirror's outbox. */
  private record(write: PlannedWrite, json: string | null, bytes: number): void {
    this.version = write.version;
    this.log.entries += 1;
    this.log.bytes += bytes;
    this.dirty = true;
    this.outbox.push({ key: write.key, text: changeMessage(write.op, write.key, write.version, json) });
    this.mirror.record(write);
  }

  /**
   * Trims the log towards its bounds (at most {@link TRIM_STEP} rows; the alarm goes on at
   * once when more are over), finds the earliest expiry for the alarm, saves the counters.
   */
  private trimLogAndSaveCounters(): void {
    let trimmed = 0;
    while (trimmed < TRIM_STEP) {
      const oldest = this.store.oldestLog(Math.min(TRIM_BATCH, TRIM_STEP - trimmed));
      const drop = entriesToDrop(
        this.log,
        oldest.map((r) => r.bytes),
        LOG_BOUNDS,
      );
      const last = oldest[drop - 1];
      if (!last) break;
      this.store.dropLogThrough(last.version);
      this.log.floor = last.version;
      this.log.entries -= drop;
      this.log.bytes -= oldest.slice(0, drop).reduce((sum, r) => sum + r.bytes, 0);
      trimmed += drop;
    }
    const overBounds = this.log.entries > LOG_BOUNDS.maxEntries || this.log.bytes > LOG_BOUNDS.maxBytes;
    const nextExpiry = this.store.nextExpiry();
    const mirror = this.mirror.nextDue(this.clock.now());
    const due =
      nextExpiry === null || mirror === null ? (nextExpiry ?? mirror) : Math.min(nextExpiry, mirror);
    // A log still over its bounds is trimmed further by the next ring, which comes at once.
    this.alarmDue = overBounds ? Math.min(due ?? this.clock.now(), this.clock.now()) : due;
    this.store.saveMeta(this.version, this.alarmDue, this.log);
    this.dirty = false;
  }

  /** Sends each change to every subscriber whose prefix it matches, in version order. */
  private broadcast(changes: readonly Outgoing[]): void {
    if (changes.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      const { prefix, replayAfter } = this.attachmentOf(ws);
      // A socket still replaying reads these changes from the log when its turn comes.
      if (replayAfter !== undefined) continue;
      try {
        for (const c of changes) if (c.key.startsWith(prefix)) ws.send(c.text);
      } catch {
        // A socket that is closing: its close handler cleans up.
      }
    }
  }

  /**
   * Sends a replaying socket its next step of the log: at most {@link REPLAY_STEP_CHARS} of
   * messages (at least one), then {@link STEP_SENT}; the relay answers {@link STEP_TAKEN} once the
   * client has taken it, which brings the next step, so a slow reader holds one step in memory, not
   * the whole log. With none left the socket goes live. A log trimmed past the socket's place
   * meanwhile sends `reset`, as a late `fromVersion` would.
   */
  private replayStep(ws: WebSocket): void {
    const socket = this.attachmentOf(ws);
    if (socket.replayAfter === undefined) return;
    let after = socket.replayAfter;
    try {
      if (after < this.log.floor) {
        ws.send(JSON.stringify({ type: "reset", version: this.version }));
        this.attach(ws, { prefix: socket.prefix });
        return;
      }
      let sent = 0;
      step: for (;;) {
        const rows: LogRow[] = this.store.logAfter(after, REPLAY_ROWS);
        for (const r of rows) {
          if (r.key.startsWith(socket.prefix)) {
            const text = changeMessage(r.op, r.key, r.version, r.value);
            if (sent > 0 && sent + text.length > REPLAY_STEP_CHARS) break step;
            ws.send(text);
            sent += text.length;
          }
          after = r.version;
        }
        if (rows.length < REPLAY_ROWS) break;
      }
      const caughtUp = after >= this.version;
      this.attach(ws, caughtUp ? { prefix: socket.prefix } : { prefix: socket.prefix, replayAfter: after });
      if (!caughtUp) ws.send(STEP_SENT);
    } catch {
      // A socket that is closing: it goes with its attachment.
    }
  }

  /** A socket's attachment, from memory or, after hibernation, from the socket. */
  private attachmentOf(ws: WebSocket): SocketAttachment {
    let socket = this.attachments.get(ws);
    if (socket === undefined) {
      socket = (ws.deserializeAttachment() as SocketAttachment | null) ?? { prefix: "" };
      this.attachments.set(ws, socket);
    }
    return socket;
  }

  /** Keeps `socket` as the attachment of `ws`, across hibernation too. */
  private attach(ws: WebSocket, socket: SocketAttachment): void {
    ws.serializeAttachment(socket);
    this.attachments.set(ws, socket);
  }
}
