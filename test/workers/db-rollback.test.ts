import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { failWrites } from "./faults.ts";
import { unique } from "./helpers.ts";

/** Failures per node as stored, from the monitor's saved state. */
const storedFailures = (storage: DurableObjectStorage) => {
  const row = storage.sql.exec<{ state: string }>("SELECT state FROM db_meta").one();
  return (JSON.parse(row.state) as { nodes: { name: string; failures: number }[] }).nodes.map(
    (n) => n.failures,
  );
};

describe("the cluster monitor when saving a round fails", () => {
  it("reloads its state from storage: the failed round's observations do not count", async () => {
    // A monitor of its own (the configured node on the dev port, usually down here).
    await runInDurableObject(env.DB_CLUSTER.getByName(unique("cluster")), async (cluster, state) => {
      await cluster.check();
      const before = storedFailures(state.storage);
      const restore = failWrites(state.storage, "db_meta", "UPDATE");
      await expect(cluster.check()).rejects.toThrow(/injected fault/);
      restore();
      const status = await cluster.status();
      if (!status.ok) throw new Error("the cluster is configured in the workers project");
      expect(status.value.nodes.map((n) => n.failures)).toEqual(before);
      expect(storedFailures(state.storage)).toEqual(before);
    });
  });
});
