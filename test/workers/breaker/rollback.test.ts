import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BreakerConfig } from "../../../shared/schemas/breaker.ts";
import { failWrites } from "../faults.ts";
import { unique } from "../helpers.ts";

const stored = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ config: string | null; snapshot: string | null }>("SELECT config, snapshot FROM breaker")
    .one();

describe("a breaker whose transaction fails midway", () => {
  it("keeps memory as storage has it: settings, state and counters", async () => {
    await runInDurableObject(env.BREAKERS.getByName(unique("breaker")), async (breaker, state) => {
      await breaker.configure(BreakerConfig.parse({ consecutiveFailures: 2 }));
      await breaker.record([{ ok: false }]);
      const before = await breaker.info();
      const row = stored(state.storage);

      const restore = failWrites(state.storage, "breaker", "UPDATE");
      // Would open the breaker, and change its settings.
      await expect(breaker.record([{ ok: false }])).rejects.toThrow(/injected fault/);
      await expect(breaker.configure(BreakerConfig.parse({ consecutiveFailures: 9 }))).rejects.toThrow(
        /injected fault/,
      );
      restore();

      expect(stored(state.storage)).toEqual(row);
      expect(await breaker.info()).toEqual(before);
      // The failure that did not count is needed again to open it.
      expect(await breaker.record([{ ok: false }])).toEqual({
        state: "open",
        retryAfterMs: expect.any(Number),
      });
    });
  });
});
