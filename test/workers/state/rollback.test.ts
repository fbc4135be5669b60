import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StateObject } from "../../../durable-objects/state/object.ts";
import { failWrites } from "../faults.ts";
import { unique } from "../helpers.ts";

const versions = (storage: DurableObjectStorage) =>
  storage.sql
    .exec<{ version: number; log_entries: number }>("SELECT version, log_entries FROM state_meta")
    .one();

describe("a state namespace whose transaction fails midway", () => {
  it("keeps memory as storage has it: the version counter and the log's size", async () => {
    const stub = env.STATE.getByName(unique("ns")) as unknown as DurableObjectStub<StateObject>;
    await runInDurableObject(stub, async (state, ctx) => {
      expect(await state.put("a", { value: 1 })).toMatchObject({ ok: true, value: { version: 1 } });
      // The key row is written, then its log entry fails: the whole put rolls back.
      const restore = failWrites(ctx.storage, "state_log", "INSERT");
      await expect(state.put("b", { value: 2 })).rejects.toThrow(/injected fault/);
      restore();
      expect(await state.get("b")).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(versions(ctx.storage)).toEqual({ version: 1, log_entries: 1 });
      // The next version follows the stored one: no gap where the failed put was.
      expect(await state.put("b", { value: 2 })).toMatchObject({ ok: true, value: { version: 2 } });
      expect(versions(ctx.storage)).toEqual({ version: 2, log_entries: 2 });
    });
  });
});
