/** A subscription that resumes after a dropped connection without gaps or repeats. */
import { ApiError, fail, ok, type Result } from "../../errors.ts";
import { type BackoffPolicy, backoffDelay } from "../../resilience/backoff.ts";
import type { StateMessage } from "../../schemas/state.ts";
import { endsForGood } from "../socket-end.ts";
import type { StateApi, StateWatch } from "./transport.ts";

/** A live subscription from {@link StateClient.watch}. */
export interface Watcher {
  /** The namespace version the watcher has caught up to. */
  readonly version: number;
  /** Whether the socket is connected (false while it reconnects). */
  readonly connected: boolean;
  close(): void;
}

/** Options of {@link StateClient.watch}. */
export interface WatcherOptions {
  /** Replay the changes after this version first (default: the namespace's version now). */
  fromVersion?: number;
  /** Called when the connection drops (false) and is back (true). */
  onConnection?: (connected: boolean) => void;
  /**
   * Called once when the watch ends for good instead of reconnecting: its token expired, was
   * revoked or does not allow the watch (`unauthorized`, `forbidden`). Watch again with a fresh token.
   */
  onEnd?: (error: ApiError) => void;
  /** Waits between reconnection attempts (default exponential from 100 ms, full jitter, at most 5 s). */
  backoff?: BackoffPolicy;
}

const RECONNECT_BACKOFF: BackoffPolicy = {
  kind: "exponential",
  initialDelayMs: 100,
  maxDelayMs: 5000,
  jitter: "full",
};

/**
 * Delivers a prefix's changes to a callback exactly once and in order, across reconnections: it
 * resumes from the last version it delivered, and drops what a replay repeats.
 */
export class ResumingWatcher implements Watcher {
  version: number;
  connected = false;
  readonly #api: StateApi;
  readonly #namespace: string;
  readonly #prefix: string;
  readonly #onMessage: (message: StateMessage) => void;
  readonly #options: WatcherOptions;
  #socket: StateWatch | undefined;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    api: StateApi,
    namespace: string,
    prefix: string,
    from: number,
    onMessage: (message: StateMessage) => void,
    options: WatcherOptions,
  ) {
    this.#api = api;
    this.#namespace = namespace;
    this.#prefix = prefix;
    this.version = from;
    this.#onMessage = onMessage;
    this.#options = options;
  }

  /** Connects once; a failure is the caller's to handle. */
  async connect(): Promise<Result<void>> {
    const socket = await this.#api.watch(
      this.#namespace,
      { prefix: this.#prefix, fromVersion: this.version },
      (message) => this.#deliver(message),
      (close) => this.#dropped(1, close),
    );
    if (!socket.ok) return socket;
    if (this.#closed) {
      socket.value.close();
      return ok(undefined);
    }
    this.#socket = socket.value;
    this.connected = true;
    this.#options.onConnection?.(true);
    return ok(undefined);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    try {
      // Over RPC `close()` is a call that returns a promise; a session that already ended rejects it.
      void Promise.resolve(this.#socket?.close()).catch(() => undefined);
    } catch {
      // A socket that is already closed.
    }
  }

  #deliver(message: StateMessage): void {
    if (this.#closed || message.version <= this.version) return;
    this.version = message.version;
    this.#onMessage(message);
  }

  /** Reconnects after `cause` (a close, or a failed reconnect), unless it ends the watch for good. */
  #dropped(attempt: number, cause: unknown): void {
    if (this.#closed) return;
    if (this.connected) {
      this.connected = false;
      this.#options.onConnection?.(false);
    }
    const end = endsForGood(cause);
    if (end) {
      this.close();
      this.#options.onEnd?.(end);
      return;
    }
    const delay = backoffDelay(this.#options.backoff ?? RECONNECT_BACKOFF, attempt, Math.random);
    this.#timer = setTimeout(async () => {
      const result = await this.connect().catch((err: unknown) => fail("unavailable", String(err)));
      if (!result.ok) this.#dropped(attempt + 1, ApiError.from(result.error));
    }, delay);
  }
}
