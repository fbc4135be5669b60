import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type { DbTestCluster } from "./test/db-setup/global-setup.ts";

// Two projects: `workers` runs inside workerd against the real Worker, Durable Objects, storage and
// alarms; `node` runs pure logic and anything that needs processes (Postgres, an HTTP receiver).
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
