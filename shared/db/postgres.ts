/**
 * Postgres connections for the pools: one postgres.js client holding one connection, opened from
 * a Hyperdrive binding's connection string (or any URL, in Node), and the error classification
 * the pools and the router need.
 */
import postgres from "postgres";
import type { Connector } from "./pool.ts";

/** One connection: a postgres.js client limited to a single connection. */
export type PgConnection = postgres.Sql;

/** Opens a connected socket for postgres.js from its parsed options (`host[]`, `port[]`). */
export type SocketFactory = (options: { host: string[]; port: number[] }) => Promise<unknown>;

export interface PgConnectorOptions {
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** A socket to use instead of postgres.js's own (in Workers: `openPgSocket` from socket.ts). */
  socket?: SocketFactory;
}

/** Opens single-connection postgres.js clients to `url`; they connect on their first query. */
export function pgConnector(url: string, options: PgConnectorOptions = {}): Connector<PgConnection> {
  return {
    open: async () =>
      postgres(url, {
        max: 1,
        connect_timeout: Math.max(1, Math.ceil((options.connectTimeoutMs ?? 5_000) / 1000)),
        // Skips a catalogue query per connection; array types of custom types are not parsed.
        fetch_types: false,
        onnotice: () => {},
        // Hyperdrive terminates TLS towards the database; the hop from the Worker needs none.
        ...(options.socket && { socket: options.socket, ssl: false }),
      } as postgres.Options<Record<string, never>>),
    // No grace period: the pool only closes connections nobody is using (a broken one never ends otherwise).
    close: (sql) => sql.end({ timeout: 0 }),
  };
}

/** SQLSTATE of a server error, when `err` is one. */
export function sqlState(err: unknown): string | undefined {
  if (err instanceof postgres.PostgresError) return err.code;
  return undefined;
}

/**
 * True when `err` means the connection or the server is gone, not that a statement was wrong:
 * a socket or timeout failure from the driver, or SQLSTATE class 08 (connection exception) /
 * 57P01–57P03 (shutdown, crash, not accepting connections).
 */
export function isConnectionError(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) return state.startsWith("08") || /^57P0[1-3]$/.test(state);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /^(CONNECT_|CONNECTION_|E[A-Z]+$)/.test(code)) return true;
  // Sockets in workerd fail with plain Errors naming the network.
  return /network|socket|connect|closed|timed? ?out/i.test(err.message);
}

/** True when a write reached a node that only accepts reads (a replica, or a fenced primary). */
export function isReadOnlyError(err: unknown): boolean {
  return sqlState(err) === "25006";
}

/**
 * The position a replica must replay to show everything this connection has written: the WAL
 * insert position (at or past the end of the last commit record, even with asynchronous commit).
 */
export async function writePosition(sql: PgConnection): Promise<string> {
  const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
  return (row as { lsn: string }).lsn;
}

/** True when the replica behind `sql` has replayed WAL up to `lsn`. */
export async function hasReplayed(sql: PgConnection, lsn: string): Promise<boolean> {
  const [row] = await sql<{ done: boolean }[]>`
    select coalesce(pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn, false) as done`;
  return row?.done === true;
}
