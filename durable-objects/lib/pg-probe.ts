/**
 * The SQL the cluster object runs against each node: the health and lag check (one round trip),
 * promotion, fencing, restore points. Failures come back as short generic texts, never as raw
 * server messages, since they end up in `/v1/db/status`.
 */
import type { PgConnection } from "../../shared/db/postgres.ts";
import { isConnectionError, sqlState } from "../../shared/db/postgres.ts";
import type { ArchiverRow, Probe, ReplicationRow } from "../logic/cluster-monitor.ts";

/** A check that took longer than allowed. */
export class CheckTimeout extends Error {
  override readonly name = "CheckTimeout";
}

/** Runs `work`, rejecting with {@link CheckTimeout} after `ms`. */
export async function withTimeout<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A short, client-safe description of why a node could not be checked. */
export function describeFailure(err: unknown): string {
  if (err instanceof CheckTimeout) return "check timed out";
  const state = sqlState(err);
  if (state === "57P03") return "starting up or shutting down";
  if (state) return `server error ${state}`;
  if (isConnectionError(err)) return "unreachable";
  return "check failed";
}

interface CheckRow {
  in_recovery: boolean;
  current_lsn: string | null;
  timeline: number | null;
  read_only: boolean;
  archiving: boolean;
  receive_lsn: string | null;
  replay_lsn: string | null;
  lag_ms: number | null;
  streaming: boolean;
  received_tli: number | null;
  replication: ReplicationRow[] | string;
  archived_count: number;
  last_archived_wal: string | null;
  last_archived_at: number | null;
  failed_count: number;
  last_failed_at: number | null;
  last_failed_wal: string | null;
}

// One round trip. CASE keeps primary-only functions (pg_current_wal_lsn errors during recovery)
// from running on replicas. Replica time lag is 0 while it streams and has replayed all it
// received: pg_last_xact_replay_timestamp alone would grow on an idle primary.
const CHECK_SQL = `
select
  r.rec as in_recovery,
  case when r.rec then null else pg_current_wal_lsn()::text end as current_lsn,
  case when r.rec then null else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline,
  current_setting('default_transaction_read_only') = 'on' as read_only,
  current_setting('archive_mode') <> 'off' as archiving,
  pg_last_wal_receive_lsn()::text as receive_lsn,
  pg_last_wal_replay_lsn()::text as replay_lsn,
  case when not r.rec then null
       when w.streaming and pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0::float8
       else (extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000)::float8 end as lag_ms,
  coalesce(w.streaming, false) as streaming,
  w.received_tli,
  (select coalesce(json_agg(json_build_object(
      'applicationName', application_name,
      'state', state,
      'lagBytes', case when r.rec then null else pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 end)), '[]'::json)
   from pg_stat_replication) as replication,
  a.archived_count::int as archived_count,
  a.last_archived_wal,
  (extract(epoch from a.last_archived_time) * 1000)::float8 as last_archived_at,
  a.failed_count::int as failed_count,
  a.last_failed_wal,
  (extract(epoch from a.last_failed_time) * 1000)::float8 as last_failed_at
from (select pg_is_in_recovery() as rec) r
cross join pg_stat_archiver a
left join (select status = 'streaming' as streaming, received_tli from pg_stat_wal_receiver limit 1) w on true`;

/** Checks one node: role, WAL positions and lag, replication and archiving. */
export async function checkNode(sql: PgConnection): Promise<Probe> {
  const [row] = await sql.unsafe<CheckRow[]>(CHECK_SQL);
  if (!row) throw new Error("check returned no row");
  if (row.in_recovery) {
    return {
      ok: true,
      inRecovery: true,
      receiveLsn: row.receive_lsn,
      replayLsn: row.replay_lsn,
      lagMs: row.lag_ms === null ? null : Math.max(0, Math.round(row.lag_ms)),
      streaming: row.streaming,
      timeline: row.received_tli,
    };
  }
  const replication = typeof row.replication === "string" ? JSON.parse(row.replication) : row.replication;
  const archiver: ArchiverRow = {
    archiving: row.archiving,
    archivedCount: row.archived_count,
    lastArchivedWal: row.last_archived_wal,
    lastArchivedAt: row.last_archived_at === null ? null : Math.round(row.last_archived_at),
    failedCount: row.failed_count,
    lastFailedWal: row.last_failed_wal,
    lastFailedAt: row.last_failed_at === null ? null : Math.round(row.last_failed_at),
  };
  return {
    ok: true,
    inRecovery: false,
    timeline: row.timeline ?? 1,
    currentLsn: row.current_lsn ?? "0/0",
    readOnly: row.read_only,
    replication: (replication as ReplicationRow[]).map((r) => ({
      ...r,
      lagBytes: r.lagBytes === null ? null : Math.round(r.lagBytes),
    })),
    archiver,
  };
}

/**
 * How a promotion went: `promoted` with the position where the new timeline forked off the old
 * one; `pending` when `pg_promote` gave up waiting after its signal was sent, so the node may
 * still become a primary. A node that refuses (`pg_promote` raises an error) throws instead.
 */
export type Promotion = { promoted: true; forkLsn: string | null } | { promoted: false };

/** Promotes a replica and waits (up to 60 s) until it accepts writes. */
export async function promote(sql: PgConnection): Promise<Promotion> {
  const [row] = await sql<{ promoted: boolean }[]>`select pg_promote(true, 60) as promoted`;
  if (row?.promoted !== true) return { promoted: false };
  // Once recovery has ended, the last replayed position stays where recovery stopped: the end of
  // the old timeline in this node's history, the point a lagging replica must not have passed.
  const [fork] = await sql<{ lsn: string | null }[]>`select pg_last_wal_replay_lsn()::text as lsn`;
  return { promoted: true, forkLsn: fork?.lsn ?? null };
}

/**
 * Fences a node that must take no more writes: new transactions default to read-only, across
 * restarts (ALTER SYSTEM). A guard against stray clients, not against a client that insists.
 */
export async function fence(sql: PgConnection): Promise<void> {
  await sql.unsafe("alter system set default_transaction_read_only = on");
  await sql`select pg_reload_conf()`;
}

/**
 * Makes a replica stream from another primary: `primary_conninfo` is reloadable, so the WAL
 * receiver restarts against the new address, and the default `recovery_target_timeline = latest`
 * follows the promotion's new timeline. `conninfo` is validated to hold no quotes (config.ts).
 */
export async function followPrimary(sql: PgConnection, conninfo: string): Promise<void> {
  await sql.unsafe(`alter system set primary_conninfo = '${conninfo}'`);
  await sql`select pg_reload_conf()`;
}

/** Undoes {@link fence}. */
export async function unfence(sql: PgConnection): Promise<void> {
  await sql.unsafe("alter system reset default_transaction_read_only");
  await sql`select pg_reload_conf()`;
}

/** The primary's current WAL position. */
export async function currentLsn(sql: PgConnection): Promise<string> {
  const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  return (row as { lsn: string }).lsn;
}

/** Creates a named restore point on the primary; returns its WAL position. */
export async function createRestorePoint(sql: PgConnection, name: string): Promise<string> {
  const [row] = await sql<{ lsn: string }[]>`select pg_create_restore_point(${name})::text as lsn`;
  return (row as { lsn: string }).lsn;
}
