import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type { DbTestCluster } from "./test/db-setup/global-setup.ts";

// `workers` runs inside workerd against the real Worker, Durable Objects, storage and alarms; `node`
// runs pure logic; `browser` drives Chromium against the Worker; `integration` starts the Worker and a real webhook receiver as processes; `db`
// runs the Worker against a real Postgres primary and streaming replica.
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
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
    ],
  },
});
