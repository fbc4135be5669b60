/** The typed clients' Redis calls over HTTP and the service binding: mirrors and Redis subscriptions. */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BusClient } from "../../shared/client/bus.ts";
import { HttpTransport } from "../../shared/client/http.ts";
import { httpMirrors, type MirrorApi, rpcMirrors } from "../../shared/client/mirror.ts";
import { call, TOKEN, unique } from "../workers/helpers.ts";

const fetchWorker = (r: Request) => exports.default.fetch(r);
const http = new HttpTransport({ baseUrl: "http://localhost", token: TOKEN, fetch: fetchWorker });

const mirrorTransports: Array<[string, MirrorApi]> = [
  ["HTTP", httpMirrors(http)],
  ["the service binding", rpcMirrors(exports.SwitchyardRpc)],
];

describe.each(mirrorTransports)("mirrors over %s", (_name, api) => {
  it("put, get and delete a mirror; refuse a bad prefix", async () => {
    const ns = unique("redistest-mcl");
    expect((await call("PUT", `/v1/state/${ns}/k`, { value: 1 })).status).toBe(200);
    const put = await api.put(ns, { redis: { prefix: `${ns}:` } });
    expect(put).toMatchObject({
      ok: true,
      value: { namespace: ns, redis: { prefix: `${ns}:` }, namespaceVersion: 1 },
    });
    expect((await api.get(ns)).ok).toBe(true);
    expect(await api.delete(ns)).toEqual({ ok: true, value: { deleted: true } });
    const missing = await api.get(ns);
    expect(missing.ok || missing.error.code).toBe("not_found");
    const bad = await api.put(ns, { redis: { prefix: "p".repeat(257) } });
    expect(bad.ok || bad.error.details?.field).toBe("redis.prefix");
  });
});

describe.each([
  [
    "HTTP",
    BusClient.http({
      baseUrl: "http://localhost",
      token: TOKEN,
      fetch: (request) => exports.default.fetch(request),
    }),
  ],
  ["the service binding", BusClient.binding(exports.SwitchyardRpc)],
])("Redis subscriptions over %s", (_name, bus) => {
  it("create a stream subscription without a secret and list it with its target", async () => {
    const topic = unique("redistest-rcl");
    const created = await bus.createRedisSubscription(topic, {
      redis: { stream: `${topic}-s`, maxLen: 1000 },
    });
    expect(Object.keys(created)).toEqual(["id"]);
    const [listed] = await bus.listSubscriptions(topic);
    expect(listed).toMatchObject({ id: created.id, redis: { stream: `${topic}-s`, maxLen: 1000 } });
  });
});
