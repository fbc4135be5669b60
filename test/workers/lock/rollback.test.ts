import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { failWrites } from "../faults.ts";
import { unique } from "../helpers.ts";

const holders = (storage: DurableObjectStorage) =>
  storage.sql.exec("SELECT owner, token FROM lock_holders ORDER BY owner").toArray();

describe("a lock whose transaction fails midway", () => {
  it("keeps memory as storage has it: the holder, the waiter and the next token", async () => {
    const name = unique("lock");
    await runInDurableObject(env.LOCKS.getByName(name), async (lock, state) => {
      const a = await lock.acquire({ owner: "a", ttlMs: 60_000, waitMs: 0, permits: 1 });
      if (!a.ok) throw new Error("a was not granted");
      const waiting = lock.acquire({ owner: "b", ttlMs: 60_000, waitMs: 30_000, permits: 1 });
      expect((await lock.info()).waiters).toBe(1);

      // The release deletes a's grant, then storing b's grant fails: the whole release rolls back.
      const restore = failWrites(state.storage, "lock_holders", "INSERT");
      await expect(lock.release({ owner: "a", token: a.value.token })).rejects.toThrow(/injected fault/);
      restore();
      expect(await lock.info()).toMatchObject({ name, holders: [{ owner: "a", token: 1 }], waiters: 1 });
      expect(holders(state.storage)).toEqual([{ owner: "a", token: 1 }]);

      // The same release now goes through, and b gets the token the failed one would have given.
      expect(await lock.release({ owner: "a", token: a.value.token })).toEqual({
        ok: true,
        value: { released: true },
      });
      expect(await waiting).toMatchObject({ ok: true, value: { name, owner: "b", token: 2 } });
      expect(holders(state.storage)).toEqual([{ owner: "b", token: 2 }]);
    });
  });
});
