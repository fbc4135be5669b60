/** A plain `wrangler deploy` of the repository ships no local-development setting. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const toml = readFileSync(new URL("../../../wrangler.toml", import.meta.url), "utf8");

describe("wrangler.toml", () => {
  it.each(["ALLOW_DEV_TOKEN", "ALLOW_INSECURE_WEBHOOKS", "TOKEN_SIGNING_KEYS", "API_TOKENS"])(
    "does not set %s (local development has it from .dev.vars, a deployment from secrets)",
    (name) => {
      expect(toml).not.toMatch(new RegExp(`^\\s*${name}\\s*=`, "m"));
    },
  );

  it("creates the token objects in a migration", () => {
    expect(toml).toMatch(/new_sqlite_classes = \[[^\]]*"TokenRegistryObject"[^\]]*"TokenRateLimitObject"/);
  });
});
