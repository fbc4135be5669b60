/**
 * A TCP socket for postgres.js (its `socket` option) over `cloudflare:sockets`.
 *
 * postgres.js's own Workers socket keeps reading after it has emitted `close`; the read then
 * fails and is emitted as `error` on an emitter whose listeners postgres.js has already removed,
 * which throws inside a promise: every clean `sql.end()` leaves an unhandled rejection ("This
 * socket has been closed."). This socket stops reading once closed and never throws from emit.
 */
import { connect } from "cloudflare:sockets";

type Listener = (...args: unknown[]) => void;

/** Node's `Buffer` (a global under `nodejs_compat`): postgres.js parses messages with its methods. */
const NodeBuffer = (globalThis as unknown as { Buffer: { from(bytes: Uint8Array): Uint8Array } }).Buffer;

/** The part of Node's `net.Socket` that postgres.js uses. */
export class PgSocket {
  readyState: "open" | "closed" = "open";
  readonly #socket: Socket;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#writer = socket.writable.getWriter();
    void this.#read(socket.readable.getReader());
  }

  on(event: string, fn: Listener): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), fn]);
    return this;
  }

  once(event: string, fn: Listener): this {
    const wrapped: Listener = (...args) => {
      this.removeListener(event, wrapped);
      fn(...args);
    };
    return this.on(event, wrapped);
  }

  removeListener(event: string, fn: Listener): this {
    this.#listeners.set(
      event,
      (this.#listeners.get(event) ?? []).filter((l) => l !== fn),
    );
    return this;
  }

  removeAllListeners(event?: string): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  write(data: Uint8Array, done?: () => void): boolean {
    this.#writer.write(data).then(
      () => done?.(),
      (err) => this.#fail(err),
    );
    return true;
  }

  end(data?: Uint8Array): void {
    const flushed = data ? this.#writer.write(data) : Promise.resolve();
    flushed.then(() => this.#socket.close()).catch(() => undefined);
    this.#closed();
  }

  destroy(): void {
    this.end();
  }

  // Flow control and keep-alive are the runtime's business here.
  pause(): void {}
  resume(): void {}
  setKeepAlive(): void {}

  #emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) fn(...args);
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.readyState === "closed") break;
        this.#emit("data", NodeBuffer.from(value));
      }
    } catch (err) {
      this.#fail(err);
    }
    this.#closed();
  }

  #fail(err: unknown): void {
    if (this.readyState === "closed") return;
    this.#emit("error", err);
    this.#closed();
  }

  #closed(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.#emit("close");
  }
}

/** Opens a connected socket to `host:port` (postgres.js calls this with its parsed options). */
export async function openPgSocket(options: { host: string[]; port: number[] }): Promise<PgSocket> {
  const socket = connect({ hostname: options.host[0] ?? "localhost", port: options.port[0] ?? 5432 });
  await socket.opened;
  return new PgSocket(socket);
}
