import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BusClient } from "../../../shared/client/bus.ts";
import { ApiError } from "../../../shared/errors.ts";
import type { BusEventValue } from "../../../shared/schemas/bus.ts";
import { TOKEN, unique } from "../helpers.ts";
import { receiver, ring, settled } from "./helpers.ts";

// The dev token is accepted because the test configuration sets ALLOW_DEV_TOKEN (API_TOKENS is unset).
const bus = (seen: (res: Response) => void = () => {}) =>
  BusClient.binding(exports.SwitchyardRpc, {
    http: {
      fetch: async (input, init) => {
        const res = await exports.default.fetch(
          new Request(input.replace("https://switchyard", "http://localhost"), init),
        );
        seen(res);
        return res;
      },
    },
    token: TOKEN,
  });

/**
 * Follows every ack the client sends on `ws` with a ping the object answers itself (not the
 * runtime's auto-response); resolves on the first pong, which the object sends after the ack.
 */
function pongAfterAck(ws: WebSocket): Promise<void> {
  const send = ws.send.bind(ws);
  ws.send = (data) => {
    send(data);
    if (typeof data === "string" && (JSON.parse(data) as { type?: string }).type === "ack") {
      send('{ "type": "ping" }');
    }
  };
  return new Promise((resolve) =>
    ws.addEventListener("message", (m) => {
      if ((JSON.parse(String(m.data)) as { type?: string }).type === "pong") resolve();
    }),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the typed client over the service binding", () => {
  it("publishes, pulls, reads stats and manages subscriptions", async () => {
    const topic = unique("client");
    const client = bus();
    const one = await client.publish(topic, { type: "a", data: 1 });
    const batch = await client.publish(topic, [{ type: "b" }, { type: "c", priority: "high" }]);
    expect([...one.seqs, ...batch.seqs]).toEqual([1, 2, 3]);
    const page = await client.events(topic, { fromSeq: 2, filter: ["c"] });
    expect(page.events.map((e) => e.type)).toEqual(["c"]);
    const sub = await client.createSubscription(topic, { url: "http://127.0.0.1:9/hook", filter: ["z.*"] });
    expect((await client.listSubscriptions(topic)).map((s) => s.id)).toEqual([sub.id]);
    expect(await client.deleteSubscription(topic, sub.id)).toEqual({ deleted: true });
    expect((await client.stats(topic)).published).toBe(3);
  });

  it("throws the contract's errors as ApiError, backpressure with Retry-After", async () => {
    receiver(() => 503);
    const topic = unique("client");
    const client = bus();
    await expect(client.publish(topic, { type: "" })).rejects.toMatchObject({ code: "invalid_request" });
    await client.configure(topic, { maxUndelivered: 1 });
    await client.createSubscription(topic, {
      url: "http://127.0.0.1:9/hook",
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await client.publish(topic, { type: "a" });
    const err = await client.publish(topic, { type: "b" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: "backpressure", status: 429 });
    expect(Number((err as ApiError).headers["Retry-After"])).toBeGreaterThanOrEqual(1);
  });

  it("redrives dead letters over the binding and over HTTP, with the contract's errors", async () => {
    let up = false;
    receiver(() => (up ? 200 : 500));
    const topic = unique("client");
    const overBinding = bus();
    const overHttp = BusClient.http({
      baseUrl: "http://localhost",
      token: TOKEN,
      fetch: (request) => exports.default.fetch(request),
    });
    const { id } = await overBinding.createSubscription(topic, {
      url: "http://127.0.0.1:9/hook",
      maxAttempts: 1,
    });
    await overBinding.publish(topic, [{ type: "a" }, { type: "b" }]);
    await settled(topic);
    expect((await overBinding.stats(topic)).failed).toBe(2);
    up = true;

    expect(await overBinding.redriveDeadLetters(topic, id, [1, 99])).toBe(1);
    expect(await overHttp.redriveDeadLetters(topic, id, [2])).toBe(1);
    for (const client of [overBinding, overHttp]) {
      await expect(client.redriveDeadLetters(topic, "sub_nope")).rejects.toMatchObject({
        code: "not_found",
        status: 404,
      });
      expect(await client.redriveDeadLetters(topic, id, [])).toBe(0);
      await expect(client.redriveDeadLetters(topic, id, [0])).rejects.toMatchObject({
        code: "invalid_request",
        details: { field: "seqs.0" },
      });
    }
    await ring(topic);
    expect(await overHttp.stats(topic)).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
  });

  it("subscribes over a WebSocket, replays from fromSeq and acks critical events", async () => {
    const topic = unique("client");
    let acked: Promise<void> | undefined;
    const client = bus((res) => {
      if (res.webSocket) acked = pongAfterAck(res.webSocket);
    });
    await client.publish(topic, [{ type: "old" }, { type: "kept" }]);
    const seen: BusEventValue[] = [];
    let notify = () => {};
    const sub = client.subscribe(
      topic,
      (e) => {
        seen.push(e);
        notify();
      },
      { fromSeq: 2 },
    );
    const count = (n: number) =>
      new Promise<void>((resolve) => {
        notify = () => seen.length >= n && resolve();
        notify();
      });
    await count(1);
    await client.publish(topic, { type: "vital", critical: true });
    await count(2);
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [2, "kept"],
      [3, "vital"],
    ]);
    expect(sub.lastSeq).toBe(3);
    expect(acked).toBeDefined();
    await acked;
    const unacked = await runInDurableObject(env.TOPICS.getByName(topic), (_o, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM socket_unacked").one(),
    );
    expect(unacked.n).toBe(0);
    sub.close();
  });
});
