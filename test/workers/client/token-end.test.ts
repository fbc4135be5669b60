/**
 * The clients stop when their token ends, instead of reconnecting for ever: a subscription or a
 * consumer whose socket the server closes because the token was revoked (or that is refused
 * `401`/`403`) tells its caller once (`onEnd`, or `consume()` rejects) and opens nothing more.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BusClient } from "../../../shared/client/bus.ts";
import { HttpTransport } from "../../../shared/client/http.ts";
import { httpQueues, QueueClient } from "../../../shared/client/queue.ts";
import { fetchConnector, httpState, StateClient } from "../../../shared/client/state.ts";
import { type ApiError, TOKEN_LAPSED_REASON } from "../../../shared/errors.ts";
import { TOKEN_RECHECK_MS } from "../../../workers/http/socket-admission.ts";
import { call, unique, within } from "../helpers.ts";
import { mint, scoped } from "../tokens/helpers.ts";

/** One recheck period, and room for a loaded machine. */
const DEADLINE_MS = TOKEN_RECHECK_MS + 3_000;

/** The Worker's own fetch, counting the upgrades a client makes. */
function worker() {
  const seen = { upgrades: 0 };
  const fetch = (request: Request) => {
    if (request.headers.get("upgrade") === "websocket") seen.upgrades++;
    return exports.default.fetch(request);
  };
  return { seen, fetch };
}

/** A bus client over the service binding, its sockets through the Worker's own fetch. */
function busOver(token: string) {
  const { seen, fetch } = worker();
  const http = {
    fetch: (input: string, init?: RequestInit) =>
      fetch(new Request(input.replace("https://switchyard", "http://localhost"), init)),
  };
  return { seen, bus: BusClient.binding(exports.SwitchyardRpc, { http, token }) };
}

/** Resolves with the first error `onEnd` is called with; fails after the deadline. */
function ended() {
  let onEnd: (error: ApiError) => void = () => {};
  const error = new Promise<ApiError>((resolve) => {
    onEnd = resolve;
  });
  return { onEnd: (e: ApiError) => onEnd(e), error: within(error, DEADLINE_MS, "onEnd") };
}

describe("a client whose token ends", () => {
  it("bus: a subscription ends with onEnd once its token is revoked, and does not reconnect", async () => {
    const topic = unique("end");
    const { id, token } = await mint({ scopes: [{ resource: `topics:${topic}`, actions: ["read"] }] });
    const { seen, bus } = busOver(token);
    const end = ended();
    const received: unknown[] = [];
    bus.subscribe(topic, (event) => void received.push(event), { onEnd: end.onEnd });
    await expect.poll(() => seen.upgrades).toBe(1);
    expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    expect(await end.error).toMatchObject({ code: "unauthorized", message: TOKEN_LAPSED_REASON });
    expect(seen.upgrades).toBe(1);
  });

  it("bus: a token without the scope ends the subscription at once with forbidden", async () => {
    const topic = unique("end");
    const token = await scoped(`topics:${topic}-other`, "read");
    const { seen, bus } = busOver(token);
    const end = ended();
    bus.subscribe(topic, () => {}, { onEnd: end.onEnd });
    expect((await end.error).code).toBe("forbidden");
    expect(seen.upgrades).toBe(1);
  });

  it("state: a watch ends with onEnd once its token is revoked, and does not reconnect", async () => {
    const ns = unique("end");
    const { id, token } = await mint({ scopes: [{ resource: `state:${ns}`, actions: ["read"] }] });
    const { seen, fetch } = worker();
    const options = { baseUrl: "http://localhost", token, fetch };
    const state = new StateClient(httpState(new HttpTransport(options), fetchConnector(options)), ns);
    const end = ended();
    const watcher = await state.watch("", () => {}, { onEnd: end.onEnd });
    expect(watcher.connected).toBe(true);
    expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    expect((await end.error).code).toBe("unauthorized");
    expect(watcher.connected).toBe(false);
    expect(seen.upgrades).toBe(1);
  });

  it("queue: consume() rejects with unauthorized once its token is revoked, streaming or leasing over HTTP", async () => {
    for (const streaming of [true, false]) {
      const queue = unique("end");
      const { id, token } = await mint({ scopes: [{ resource: `queues:${queue}`, actions: ["consume"] }] });
      const { fetch } = worker();
      const transport = httpQueues(new HttpTransport({ baseUrl: "http://localhost", token, fetch }));
      const client = new QueueClient(streaming ? transport : { ...transport, openConsumer: undefined });
      const handled: unknown[] = [];
      const errors: unknown[] = [];
      const run = client.consume(queue, async (task) => void handled.push(task.payload), {
        waitMs: 100,
        onError: (e) => errors.push(e),
      });
      expect((await call("POST", `/v1/queues/${queue}/tasks`, { payload: 1 })).status).toBe(201);
      await expect.poll(() => handled.length).toBe(1);
      expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
      await expect(run).rejects.toMatchObject({ code: "unauthorized" });
      expect(errors).toEqual([]);
    }
  });
});
