/** The one-object client and its handles, over HTTP and over the service binding. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Switchyard } from "../../../shared/client/switchyard.ts";
import { TOKEN, unique } from "../helpers.ts";

const transports: Array<[string, () => Switchyard]> = [
  [
    "HTTP",
    () =>
      Switchyard.http({ baseUrl: "http://localhost", token: TOKEN, fetch: (r) => exports.default.fetch(r) }),
  ],
  ["the service binding", () => Switchyard.binding(exports.SwitchyardRpc)],
];

describe.each(transports)("Switchyard over %s", (_, connect) => {
  it("binds a queue handle to its name: enqueue, finished, consume, stats", async () => {
    const sy = connect();
    const emails = sy.queue(unique("emails"));
    const ids = await emails.enqueueBatch([{ payload: 1 }, { payload: 2 }]);
    expect(ids).toHaveLength(2);
    const first = emails.finished(ids[0] as string, { timeoutMs: 10_000 });
    const seen: unknown[] = [];
    const stop = new AbortController();
    const done = emails.consume(
      async (task) => {
        seen.push(task.payload);
        if (seen.length === 2) stop.abort();
      },
      { concurrency: 2, batch: 2, waitMs: 100, signal: stop.signal },
    );
    await done;
    expect(seen.sort()).toEqual([1, 2]);
    expect(await first).toMatchObject({ id: ids[0], state: "completed" });
    expect((await emails.stats()).totals.completed).toBe(2);
  });

  it("binds topic, lock and state handles", async () => {
    const sy = connect();
    const orders = sy.topic(unique("orders"));
    const published = await orders.publish({ type: "order.created", data: { id: 1 } });
    expect(published.seqs).toEqual([1]);
    expect((await orders.stats()).published).toBe(1);

    const lock = sy.lock(unique("invoice"));
    const token = await lock.withLock(async (held) => held.token, { owner: "w1" });
    expect(token).toBeGreaterThan(0);

    const carts = sy.state(unique("carts"));
    await carts.put("c1", { items: 1 });
    expect((await carts.get("c1"))?.value).toEqual({ items: 1 });
  });
});
