/**
 * Node-side set-up of the `redis` test project: the Upstash-compatible gateway over the real Redis
 * at REDIS_URL (default 127.0.0.1:6379), handed to the Worker as UPSTASH_REDIS_REST_URL/TOKEN (see
 * vitest.config.mts). Tests in workerd read Redis through the same gateway with @upstash/redis and
 * flip its fault switches over HTTP (`/__gateway/faults`).
 */

import Redis from "ioredis";
import type { TestProject } from "vitest/node";
import { startGateway } from "../../scripts/upstash-gateway/server.ts";

/** What the set-up hands to the project's configuration and tests. */
export interface RedisTestGateway {
  url: string;
  token: string;
}

declare module "vitest" {
  interface ProvidedContext {
    redisGateway: RedisTestGateway;
  }
}

/** Every key the tests write starts with this (their names come from `unique("redistest-…")`). */
const TEST_KEYS = ["redistest-*", "switchyard:sink:redistest-*", "switchyard:mirror:redistest-*"];

export default async function setup(project: TestProject) {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const gateway = await startGateway({ redisUrl, token: "redis-test-token" });
  project.provide("redisGateway", { url: gateway.url, token: gateway.token });
  return async () => {
    await gateway.close();
    // Leave the shared Redis as it was found.
    const redis = new Redis(redisUrl);
    for (const match of TEST_KEYS) {
      for await (const keys of redis.scanStream({ match, count: 1000 })) {
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      }
    }
    redis.disconnect();
  };
}
