/** The package's entry points: `exports` subpath, output name, and the module it is built from. */
const entry = <Name extends string>(name: Name, source: string) =>
  ({ subpath: `./${name}`, out: name, source }) as const;

export const ENTRY_POINTS = [
  { subpath: ".", out: "index", source: "packages/client/src/index.ts" },
  entry("locks", "shared/client/locks.ts"),
  entry("queue", "shared/client/queue.ts"),
  entry("state", "shared/client/state.ts"),
  entry("bus", "shared/client/bus.ts"),
  entry("tokens", "shared/client/tokens.ts"),
  entry("catalog", "shared/client/catalog.ts"),
  entry("mirror", "shared/client/mirror.ts"),
  entry("http", "shared/client/http.ts"),
  entry("resilience", "shared/resilience/index.ts"),
  entry("webhooks", "shared/webhook-signature.ts"),
  entry("errors", "shared/errors.ts"),
] as const;
