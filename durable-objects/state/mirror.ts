/**
 * A state namespace mirrored into Redis: every live key at `<prefix><key>` holding the JSON text
 * `{"value", "version", "updatedAt"}`, deletes and expiries deleting it, a TTL as `PEXPIREAT`.
 *
 * The write path only records the change in an outbox table, in the same SQLite transaction as the
 * write itself; the outbox is drained after the write (without the writer waiting) and by the
 * object's alarm, with retries and backoff while Redis fails. The outbox keeps one row per key (the
 * latest change, and the lowest version not yet mirrored), so an outage costs at most one row per
 * key. Each drain sends up to {@link BATCH} changes in version order through one Lua script that
 * compares each change's version with the one recorded in the bookkeeping hash
 * `switchyard:mirror:<namespace>` (field: the Redis key) and applies it only when newer: a retry of
 * an answer that was lost, or a late old change, cannot move a key back.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Env } from "../../shared/env.ts";
import { type ErrorInfo, fail, ok, type Result } from "../../shared/errors.ts";
import { redisClient, redisConfigProblem, redisErrorText } from "../../shared/redis/config.ts";
import type { MirrorStatus } from "../../shared/schemas/mirror.ts";
import type { Sql } from "../lib/sql.ts";
import type { PlannedWrite } from "../logic/state-writes.ts";

/** Changes sent in one round trip. */
export const BATCH = 100;

/** A Redis call that takes longer fails (and is retried). */
const TIMEOUT_MS = 10_000;

/**
 * While changes wait and no retry is scheduled, the alarm stands this far ahead as a watchdog: the
 * drain started after each write does the work, and the alarm resumes it should the object restart
 * mid-drain. A fixed instant, so that the writes in between do not move the alarm each time.
 */
const WATCHDOG_MS = 2 * TIMEOUT_MS;

/** Retry delays: doubling from the first to the most, with equal jitter. */
export const MIRROR_BACKOFF = { initialDelayMs: 250, maxDelayMs: 30_000 };

/**
 * The mirror's own tables, created when absent: they belong to this module, so the namespace's
 * versioned schema stays the state object's alone.
 */
const TABLES = `
  CREATE TABLE IF NOT EXISTS mirror_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    namespace TEXT NOT NULL,
    prefix TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error TEXT,
    last_error_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS mirror_outbox (
    key TEXT PRIMARY KEY,
    first_version INTEGER NOT NULL,
    version INTEGER NOT NULL,
    op TEXT NOT NULL,
    value TEXT,
    updated_at INTEGER,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS mirror_outbox_version ON mirror_outbox (version);
  CREATE INDEX IF NOT EXISTS mirror_outbox_first ON mirror_outbox (first_version);`;

/**
 * KEYS: the bookkeeping hash, then the Redis keys. ARGV: per key, op ("set" or "delete"), version,
 * the value text, the expiry ("" for none). Answers how many changes were newer and applied.
 */
export const APPLY_CHANGES = `
local applied = 0
for i = 2, #KEYS do
  local a = (i - 2) * 4
  local version = tonumber(ARGV[a + 2])
  local stored = tonumber(redis.call('HGET', KEYS[1], KEYS[i]) or '0')
  if version > stored then
    if ARGV[a + 1] == 'set' then
      redis.call('SET', KEYS[i], ARGV[a + 3])
      if ARGV[a + 4] ~= '' then redis.call('PEXPIREAT', KEYS[i], ARGV[a + 4]) end
    else
      redis.call('DEL', KEYS[i])
    end
    redis.call('HSET', KEYS[1], KEYS[i], version)
    applied = applied + 1
  end
end
return applied
`;

/** The bookkeeping hash of a namespace's mirror. */
export const bookkeepingKey = (namespace: string) => `switchyard:mirror:${namespace}`;

/** One change as the mirror sends it. */
export interface MirrorChange {
  key: string;
  version: number;
  op: "set" | "delete";
  /** The stored value's JSON text (set only). */
  value: string | null;
  updatedAt: number | null;
  expiresAt: number | null;
}

/** The text stored at `<prefix><key>`: `{"value", "version", "updatedAt"}`, the value spliced in unparsed. */
export const mirrorText = (c: MirrorChange) =>
  `{"value":${c.value},"version":${c.version},"updatedAt":${c.updatedAt}}`;

/**
 * Applies changes to Redis in one round trip through the script helper (EVALSHA, EVAL when the
 * script is not loaded); answers how many were newer than what Redis had.
 */
export function applyChanges(
  script: ReturnType<Redis["createScript"]>,
  namespace: string,
  prefix: string,
  changes: readonly MirrorChange[],
): Promise<unknown> {
  return script.exec(
    [bookkeepingKey(namespace), ...changes.map((c) => `${prefix}${c.key}`)],
    changes.flatMap((c) => [
      c.op,
      String(c.version),
      c.op === "set" ? mirrorText(c) : "",
      c.expiresAt === null ? "" : String(c.expiresAt),
    ]),
  );
}

/** The delay before retry number `attempts` (1 = the first retry). */
export function mirrorRetryDelay(attempts: number, random: () => number): number {
  const ceiling = Math.min(MIRROR_BACKOFF.maxDelayMs, MIRROR_BACKOFF.initialDelayMs * 2 ** (attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

type ConfigRow = {
  namespace: string;
  prefix: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
};

type OutboxRow = {
  key: string;
  version: number;
  op: string;
  value: string | null;
  updated_at: number | null;
  expires_at: number | null;
};

/** What the mirror needs from the state object. */
export interface MirrorHost {
  /** The object's clock (see `SqlObject.clock`). */
  now(): number;
  /** The namespace's version counter. */
  version(): number;
  /** Called after a drain: save the counters and re-aim the alarm (the next retry may have moved). */
  settled(): void;
  /** Keeps the object alive until `work` settles (`ctx.waitUntil`). */
  keepAlive(work: Promise<void>): void;
}

/** The outbox and drain of one namespace's mirror. */
export class StateMirror {
  private readonly sql: Sql;
  private readonly env: Env;
  private readonly host: MirrorHost;
  private config: ConfigRow | undefined;
  private draining: Promise<void> | undefined;
  /** The watchdog alarm time while changes wait (see {@link WATCHDOG_MS}). */
  private watchdogAt: number | null = null;
  private connection: { redis: Redis; script: ReturnType<Redis["createScript"]> } | undefined;

  constructor(sql: Sql, env: Env, host: MirrorHost) {
    this.sql = sql;
    this.env = env;
    this.host = host;
  }

  /** Creates the tables when absent and reads the configuration; run at start-up. */
  load(): void {
    this.sql.run(TABLES);
    this.config = this.sql.one<ConfigRow>("SELECT * FROM mirror_config");
  }

  /** Records a change of the namespace (inside the write's transaction); nothing without a mirror. */
  record(write: PlannedWrite): void {
    if (!this.config) return;
    const set = write.op === "set" ? write : undefined;
    this.sql.run(
      `INSERT INTO mirror_outbox (key, first_version, version, op, value, updated_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET version = excluded.version, op = excluded.op, value = excluded.value,
         updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
      write.key,
      write.version,
      write.version,
      set ? "set" : "delete",
      set?.json ?? null,
      set?.updatedAt ?? null,
      set?.expiresAt ?? null,
    );
  }

  /**
   * Starts mirroring under `prefix` (inside a transaction of the state object): a new prefix, or a
   * first mirror, queues a copy of every live key. The same prefix again changes nothing.
   */
  configure(namespace: string, prefix: string): Result<MirrorStatus> {
    const unconfigured = redisConfigProblem(this.env);
    if (unconfigured) return { ok: false, error: unconfigured };
    if (this.config?.prefix !== prefix) {
      this.sql.run("DELETE FROM mirror_config");
      this.sql.run("DELETE FROM mirror_outbox");
      this.sql.run("INSERT INTO mirror_config (id, namespace, prefix) VALUES (1, ?, ?)", namespace, prefix);
      this.sql.run(
        `INSERT INTO mirror_outbox (key, first_version, version, op, value, updated_at, expires_at)
         SELECT key, version, version, 'set', value, updated_at, expires_at FROM state_keys`,
      );
      this.config = this.sql.one<ConfigRow>("SELECT * FROM mirror_config");
    }
    return ok(this.status());
  }

  /** The mirror's status, or `not_found`. */
  get(): Result<MirrorStatus> {
    const unconfigured = redisConfigProblem(this.env);
    if (unconfigured) return { ok: false, error: unconfigured };
    if (!this.config) return fail("not_found", "the namespace has no mirror");
    return ok(this.status());
  }

  /** Stops mirroring (the Redis keys stay); `not_found` without a mirror. */
  remove(): Result<{ deleted: true }> {
    const unconfigured = redisConfigProblem(this.env);
    if (unconfigured) return { ok: false, error: unconfigured };
    if (!this.config) return fail("not_found", "the namespace has no mirror");
    this.sql.run("DELETE FROM mirror_config");
    this.sql.run("DELETE FROM mirror_outbox");
    this.config = undefined;
    this.connection = undefined;
    return ok({ deleted: true as const });
  }

  /**
   * When the alarm should next drain: the retry time while backing off, the watchdog while changes
   * wait, else null.
   */
  nextDue(now: number): number | null {
    if (!this.config || !this.pending()) {
      this.watchdogAt = null;
      return null;
    }
    if (this.config.next_attempt_at !== null) return Math.max(now, this.config.next_attempt_at);
    if (this.watchdogAt === null || this.watchdogAt <= now) this.watchdogAt = now + WATCHDOG_MS;
    return this.watchdogAt;
  }

  /** Starts a drain after a write unless one runs or a retry waits; the writer does not wait. */
  kick(now: number): void {
    if (!this.config || this.draining || (this.config.next_attempt_at ?? 0) > now || !this.pending()) return;
    this.host.keepAlive(this.drain(now));
  }

  /**
   * Sends the outbox in version order until it is empty or Redis fails (then a retry is scheduled).
   * One drain at a time: a second call waits for the running one.
   */
  drain(now: number): Promise<void> {
    if (this.draining) return this.draining;
    if (!this.config || (this.config.next_attempt_at ?? 0) > now) return Promise.resolve();
    this.draining = this.run()
      .catch((err) => console.error("state mirror: draining failed", err))
      .finally(() => {
        this.draining = undefined;
        this.host.settled();
      });
    return this.draining;
  }

  private async run(): Promise<void> {
    for (;;) {
      const config = this.config;
      if (!config) return;
      const rows = this.sql.all<OutboxRow>(
        "SELECT key, version, op, value, updated_at, expires_at FROM mirror_outbox ORDER BY version LIMIT ?",
        BATCH,
      );
      if (rows.length === 0) return;
      const changes = rows.map(toChange);
      const failure = await this.send(config, changes);
      // The mirror may have been removed or re-pointed while the batch was in flight.
      if (this.config !== config) return;
      if (failure) {
        this.failed(failure);
        return;
      }
      for (const c of changes) {
        this.sql.run("DELETE FROM mirror_outbox WHERE key = ? AND version = ?", c.key, c.version);
        // A newer change of the key arrived meanwhile: everything up to this one is mirrored.
        this.sql.run(
          "UPDATE mirror_outbox SET first_version = MAX(first_version, ?) WHERE key = ?",
          c.version + 1,
          c.key,
        );
      }
      if (config.attempts > 0 || config.next_attempt_at !== null) {
        this.sql.run("UPDATE mirror_config SET attempts = 0, next_attempt_at = NULL");
        config.attempts = 0;
        config.next_attempt_at = null;
      }
    }
  }

  private async send(config: ConfigRow, changes: MirrorChange[]): Promise<ErrorInfo | undefined> {
    try {
      this.connection ??= this.connect();
      await applyChanges(this.connection.script, config.namespace, config.prefix, changes);
      return undefined;
    } catch (err) {
      return { code: "unavailable", message: redisErrorText(err) };
    }
  }

  private connect() {
    const redis = redisClient(this.env, TIMEOUT_MS);
    return { redis, script: redis.createScript(APPLY_CHANGES) };
  }

  private failed(error: ErrorInfo): void {
    const config = this.config as ConfigRow;
    const now = this.host.now();
    config.attempts += 1;
    config.next_attempt_at = now + mirrorRetryDelay(config.attempts, Math.random);
    config.last_error = error.message;
    config.last_error_at = now;
    this.sql.run(
      "UPDATE mirror_config SET attempts = ?, next_attempt_at = ?, last_error = ?, last_error_at = ?",
      config.attempts,
      config.next_attempt_at,
      config.last_error,
      config.last_error_at,
    );
  }

  private pending(): boolean {
    return this.sql.one<{ n: number }>("SELECT EXISTS (SELECT 1 FROM mirror_outbox) AS n")?.n === 1;
  }

  private status(): MirrorStatus {
    const config = this.config as ConfigRow;
    const namespaceVersion = this.host.version();
    const first = this.sql.one<{ v: number | null }>("SELECT MIN(first_version) AS v FROM mirror_outbox")?.v;
    const status: MirrorStatus = {
      namespace: config.namespace,
      redis: { prefix: config.prefix },
      namespaceVersion,
      mirroredVersion: first === null || first === undefined ? namespaceVersion : first - 1,
    };
    if (config.last_error !== null) {
      status.lastError = config.last_error;
      status.lastErrorAt = config.last_error_at ?? 0;
    }
    return status;
  }
}

function toChange(r: OutboxRow): MirrorChange {
  return {
    key: r.key,
    version: r.version,
    op: r.op === "set" ? "set" : "delete",
    value: r.value,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
  };
}
