import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type { DbTestCluster } from "./test/db-setup/global-setup.ts";
import type { RedisTestGateway } from "./test/redis-setup/global-setup.ts";

// `workers` runs inside workerd against the real Worker, Durable Objects, storage and alarms; `node`
// runs pure logic; `browser` drives Chromium against the Worker; `integration` starts the Worker and
// a real webhook receiver as processes; `db` runs the Worker against a real Postgres primary and
// streaming replicas; `redis` runs it against a real Redis through the local Upstash-compatible gateway.
export default defineConfig({
  test: {
    // Two files at a time: Vitest's default in run mode is one fewer than the cores, one file at a
    // time on a 2-core machine (`npm test` ~575 s); two take ~425 s there, all suites green.
    maxWorkers: 2,
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          // A file's first test also pays for starting its isolate: 15 s leaves room on a busy machine.
          testTimeout: 15_000,
          // A real webhook receiver on 127.0.0.1 for the bus tests.
          globalSetup: ["test/workers-setup/bus-receiver.ts"],
        },
      },
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
      {
        // Starts the Worker with wrangler's programmatic API and talks to it over real sockets.
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Debian's Chromium (playwright-core) against the Worker started with wrangler's API: the
        // console and /docs as an operator's browser sees them, offline.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
      {
        // Real Postgres (a primary and a streaming replica started by the global set-up) behind
        // the Worker's Hyperdrive bindings.
        plugins: [
          cloudflareTest(({ inject }) => {
            const cluster = inject<DbTestCluster>("dbCluster");
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: { hyperdrives: cluster.hyperdrives, bindings: cluster.vars },
            };
          }),
        ],
        test: {
          name: "db",
          include: ["test/db/**/*.test.ts"],
          globalSetup: ["test/db-setup/global-setup.ts"],
          // The files share one cluster and some of them fail it over.
          fileParallelism: false,
        },
      },
      {
        // A real Redis (REDIS_URL, default 127.0.0.1:6379) behind the gateway the set-up starts.
        plugins: [
          cloudflareTest(({ inject }) => {
            const gateway = inject<RedisTestGateway>("redisGateway");
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { UPSTASH_REDIS_REST_URL: gateway.url, UPSTASH_REDIS_REST_TOKEN: gateway.token },
              },
            };
          }),
        ],
        test: {
          name: "redis",
          include: ["test/redis/**/*.test.ts"],
          globalSetup: ["test/redis-setup/global-setup.ts"],
          // The files share the gateway's fault switches.
          fileParallelism: false,
        },
      },
    ],
  },
});
