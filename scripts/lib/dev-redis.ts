/**
 * The Redis part of `npm run dev`: when a Redis answers at `REDIS_URL` (default
 * `redis://127.0.0.1:6379`), an Upstash-compatible gateway over it, handed to the Worker as
 * `UPSTASH_REDIS_REST_URL`/`UPSTASH_REDIS_REST_TOKEN` with `--var` (a `--var` naming the same
 * variable among the user's own wrangler arguments wins: ours is then left out).
 */
import { Redis } from "ioredis";
import { type Gateway, startGateway } from "../upstash-gateway/server.ts";

/** The token the dev gateway expects; local only, like the dev admin token. */
export const DEV_REDIS_TOKEN = "switchyard-dev-redis-token";

export interface DevRedis {
  /** Extra `wrangler dev` arguments. */
  args: string[];
  /** One line for the console. */
  message: string;
  gateway: Gateway | undefined;
}

/** Whether a Redis answers PING at `url` within a second. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** Whether the user's wrangler arguments already set the variable `name` with `--var`. */
export function userSetsVar(argv: readonly string[], name: string): boolean {
  return argv.some((a) => a.startsWith(`${name}:`) || a.startsWith(`--var=${name}:`));
}

/** Starts the gateway when Redis answers; otherwise says so and adds nothing. */
export async function startDevRedis(argv: readonly string[], env = process.env): Promise<DevRedis> {
  const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (!(await redisAnswers(redisUrl))) {
    return {
      args: [],
      message: `No Redis at ${redisUrl} (set REDIS_URL): Redis sinks and mirrors answer 400 not_configured.`,
      gateway: undefined,
    };
  }
  const gateway = await startGateway({ redisUrl, token: DEV_REDIS_TOKEN });
  const vars: [string, string][] = [
    ["UPSTASH_REDIS_REST_URL", gateway.url],
    ["UPSTASH_REDIS_REST_TOKEN", gateway.token],
  ];
  const args = vars
    .filter(([name]) => !userSetsVar(argv, name))
    .flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  return { args, message: `Upstash-compatible gateway ${gateway.url} over ${redisUrl}`, gateway };
}
