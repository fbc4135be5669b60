/** The local Redis that peer rows (redlock, BullMQ, ioredis) run against, when one answers. */
import { Redis } from "ioredis";

/** Where the peers' Redis listens. */
export const REDIS = { host: "127.0.0.1", port: 6379 } as const;

/** A connected client, or undefined when nothing answers on 127.0.0.1:6379 (the row is then skipped). */
export async function connectRedis(): Promise<Redis | undefined> {
  const redis = new Redis({ ...REDIS, lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0 });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}
