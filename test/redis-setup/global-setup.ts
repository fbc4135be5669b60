/**
 * Node-side set-up of the `redis` test project: the Upstash-compatible gateway over the real Redis
 * at REDIS_URL (default 127.0.0.1:6379), handed to the Worker as UPSTASH_REDIS_REST_URL/TOKEN (see
 * vitest.config.mts). Tests in workerd read Redis through the same gateway with @upstash/redis and
 * flip its fault switches over HTTP (`/__gateway/faults`).
 */
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

export default async function setup(project: TestProject) {
  const gateway = await startGateway({
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    token: "redis-test-token",
  });
  project.provide("redisGateway", { url: gateway.url, token: gateway.token });
  return () => gateway.close();
}
