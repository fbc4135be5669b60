import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { failWrites } from "../faults.ts";
import { unique } from "../helpers.ts";

describe("a token's rate limit when storing a call fails", () => {
  it("does not count the call: memory is rebuilt from storage", async () => {
    const stub = env.TOKEN_RATE_LIMITS.getByName(unique("tok"));
    const limit = { requests: 1, periodMs: 60_000 };
    await runInDurableObject(stub, async (object, state) => {
      await object.take(limit, 1_000); // start up
      const restore = failWrites(state.storage, "calls", "INSERT");
      await expect(object.take(limit, 70_000)).rejects.toThrow(/injected fault/);
      restore();
      // Had memory kept the failed call, this one would be refused.
      expect((await object.take(limit, 70_001)).allowed).toBe(true);
      expect(state.storage.sql.exec("SELECT at FROM calls ORDER BY at").toArray()).toEqual([{ at: 70_001 }]);
    });
  });
});
