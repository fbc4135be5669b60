import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PublishRequest } from "../../../shared/schemas/bus.ts";
import { failWrites } from "../faults.ts";
import { unique } from "../helpers.ts";
import { subscribeWebhook } from "./helpers.ts";

const count = (storage: DurableObjectStorage, table: string) =>
  storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;

describe("a topic whose transaction fails midway", () => {
  it("keeps memory as storage has it: pending deliveries, sequence numbers and settings", async () => {
    const topic = unique("topic");
    await subscribeWebhook(topic);
    await runInDurableObject(env.TOPICS.getByName(topic), async (object, state) => {
      const config = await object.getConfig();
      // The event row is written, then its delivery fails: the whole publish rolls back.
      const restoreDeliveries = failWrites(state.storage, "deliveries", "INSERT");
      await expect(object.publish(PublishRequest.parse({ type: "a" }))).rejects.toThrow(/injected fault/);
      restoreDeliveries();
      expect(count(state.storage, "events")).toBe(0);
      expect((await object.stats()).pending).toBe(0);

      const restoreMeta = failWrites(state.storage, "topic_meta", "UPDATE");
      await expect(object.setConfig({ maxInFlight: 3 })).rejects.toThrow(/injected fault/);
      restoreMeta();
      expect(await object.getConfig()).toEqual(config);

      // Sequence numbers go on from storage, and the pending count matches the rows.
      expect(await object.publish(PublishRequest.parse({ type: "b" }))).toMatchObject({
        ok: true,
        value: { seqs: [1] },
      });
      expect((await object.stats()).pending).toBe(count(state.storage, "deliveries"));
    });
  });
});
