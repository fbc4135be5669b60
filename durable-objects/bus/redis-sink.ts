/**
 * The Redis transport of the topic's dispatcher: one attempt delivers one event to a subscription's
 * Redis target. The dispatcher's machinery (order, retries, dead letters, pausing) is the same as
 * for webhooks; only the send differs.
 *
 * A stream gets each event exactly once, although attempts are at least once (an answer lost after
 * Redis applied the append is retried): one Lua script, in one round trip, looks the event id up in
 * the subscription's record of appended ids and appends only when it is new. The record is a
 * sorted set `switchyard:sink:<topic>:<subscription>` (member: event id, score: seq), trimmed below
 * the lowest seq the subscription may still attempt (pending or dead-lettered) and to
 * {@link MAX_RECORDED_IDS} entries, so it stays small.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { Env } from "../../shared/env.ts";
import { redisClient, redisErrorText } from "../../shared/redis/config.ts";
import { envelope, streamFields } from "../../shared/redis/entries.ts";
import type { BusEventValue, RedisTargetValue } from "../../shared/schemas/bus.ts";
import type { Sql } from "../lib/sql.ts";
import type { WebhookOutcome } from "../lib/webhook-sender.ts";

/** Most event ids kept per subscription, whatever the lowest live seq (an old dead letter). */
export const MAX_RECORDED_IDS = 100_000;

/**
 * KEYS: stream, record. ARGV: event id, seq, floor seq, most ids kept, MAXLEN ("" for none), then
 * the entry's field/value pairs. Answers 1 when appended, 0 when the id was already recorded.
 */
const APPEND_ONCE = `
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local xadd = {'XADD', KEYS[1]}
if ARGV[5] ~= '' then
  table.insert(xadd, 'MAXLEN'); table.insert(xadd, '~'); table.insert(xadd, ARGV[5])
end
table.insert(xadd, '*')
for i = 6, #ARGV do table.insert(xadd, ARGV[i]) end
redis.call(unpack(xadd))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[4]) + 1))
return 1
`;

/** The Redis key recording which events a stream subscription has appended. */
export const sinkRecordKey = (topic: string, subscriptionId: string) =>
  `switchyard:sink:${topic}:${subscriptionId}`;

/** One client (and its script helper) per attempt timeout. */
interface Connection {
  redis: Redis;
  appendOnce: ReturnType<Redis["createScript"]>;
}

/**
 * Whether a failure says Redis (or its REST gateway) is unreachable, rather than that Redis
 * answered with an error. Redis's error replies start with an upper-case code (`ERR`, `WRONGTYPE`,
 * `NOSCRIPT`, `EXECABORT`, ...), which the client puts after `Command failed: ` for a command of
 * its automatic pipeline (how it sends every command) or first for a request the server refused;
 * anything else (a timeout, a refused connection, a gateway's 5xx, a body that is not JSON) is down.
 */
export function redisUnreachable(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return !/^(Command failed: )?[A-Z]{2,}[A-Z_]* /.test(text);
}

/** Sends events to Redis targets for one topic object. */
export class RedisSinks {
  private readonly env: Env;
  private readonly sql: Sql;
  private readonly connections = new Map<number, Connection>();

  constructor(env: Env, sql: Sql) {
    this.env = env;
    this.sql = sql;
  }

  /** One attempt; never throws. */
  async deliver(
    subscriptionId: string,
    target: RedisTargetValue,
    event: BusEventValue,
    timeoutMs: number,
  ): Promise<WebhookOutcome> {
    try {
      const conn = this.connection(timeoutMs);
      if (target.channel !== undefined) {
        await conn.redis.publish(target.channel, envelope(event));
        return { ok: true };
      }
      await conn.appendOnce.exec(
        [target.stream as string, sinkRecordKey(event.topic, subscriptionId)],
        [
          event.id,
          String(event.seq),
          String(this.lowestLiveSeq(subscriptionId, event.seq)),
          String(MAX_RECORDED_IDS),
          target.maxLen === undefined ? "" : String(target.maxLen),
          ...streamFields(event),
        ],
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, error: redisErrorText(err), receiverDown: redisUnreachable(err) };
    }
  }

  /**
   * The lowest seq the subscription may still attempt: ids below it can never come again, so the
   * record forgets them.
   */
  private lowestLiveSeq(subscriptionId: string, seq: number): number {
    const row = this.sql.one<{ low: number | null }>(
      `SELECT MIN(low) AS low FROM (
         SELECT MIN(seq) AS low FROM deliveries WHERE sub_id = ?
         UNION ALL SELECT MIN(seq) FROM dead_letters WHERE sub_id = ?)`,
      subscriptionId,
      subscriptionId,
    );
    return Math.min(row?.low ?? seq, seq);
  }

  private connection(timeoutMs: number): Connection {
    let conn = this.connections.get(timeoutMs);
    if (!conn) {
      const redis = redisClient(this.env, timeoutMs);
      conn = { redis, appendOnce: redis.createScript(APPEND_ONCE) };
      this.connections.set(timeoutMs, conn);
    }
    return conn;
  }
}
