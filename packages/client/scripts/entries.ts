/** The package's entry points: `exports` subpath, output name, and the module it is built from. */
export const ENTRY_POINTS = [
  { subpath: ".", out: "index", source: "packages/client/src/index.ts" },
  { subpath: "./locks", out: "locks", source: "shared/client/locks.ts" },
  { subpath: "./queue", out: "queue", source: "shared/client/queue.ts" },
  { subpath: "./state", out: "state", source: "shared/client/state.ts" },
  { subpath: "./bus", out: "bus", source: "shared/client/bus.ts" },
  { subpath: "./tokens", out: "tokens", source: "shared/client/tokens.ts" },
  { subpath: "./catalog", out: "catalog", source: "shared/client/catalog.ts" },
  { subpath: "./mirror", out: "mirror", source: "shared/client/mirror.ts" },
  { subpath: "./http", out: "http", source: "shared/client/http.ts" },
  { subpath: "./resilience", out: "resilience", source: "shared/resilience/index.ts" },
  { subpath: "./webhooks", out: "webhooks", source: "shared/webhook-signature.ts" },
  { subpath: "./errors", out: "errors", source: "shared/errors.ts" },
] as const;
