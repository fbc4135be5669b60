/** The contract's order of checks, unknown fields, and the generic 500. */
import { describe, expect, it } from "vitest";
import { notFound, onError } from "../../workers/http/errors.ts";
import { createRouter } from "../../workers/http/router.ts";
import { call, expectInvalidField, unique } from "./helpers.ts";
import { scoped } from "./tokens/helpers.ts";

describe("order of checks (API.md 1.1)", () => {
  it("answers a missing token 401 before a bad name or a bad body", async () => {
    const res = await call("POST", "/v1/locks/bad name!/acquire", { bogus: 1 }, { token: null });
    expect(res.status).toBe(401);
    expect(res.error?.message).toContain("Authorization: Bearer");
  });

  it("answers a bad name 400 before the body is read", async () => {
    const res = await call("POST", "/v1/locks/-bad/acquire", undefined, {
      raw: "not json",
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe("name");
  });

  it.each([
    ["a state key with a control character", "GET", "/v1/state/{n}/bad%01key", "state", "key"],
    ["a state key over 512 bytes", "PUT", `/v1/state/{n}/${"k".repeat(513)}`, "state", "key"],
    ["a task id over 64 characters", "POST", `/v1/queues/{n}/tasks/${"9".repeat(65)}/ack`, "queues", "id"],
    ["a schedule name", "PUT", "/v1/queues/{n}/schedules/-bad", "queues", "name"],
  ])(
    "answers %s 400 before a token's missing scope (403)",
    async (_label, method, path, capability, field) => {
      const name = unique("order");
      // The token may only read another resource of the capability: any scope check would refuse it.
      const token = await scoped(`${capability}:other-${name}`, "read");
      const res = await call(method, path.replace("{n}", name), method === "GET" ? undefined : {}, { token });
      expectInvalidField(res, field);
    },
  );

  it("says that names cannot contain a slash", async () => {
    const res = await call("POST", "/v1/queues/a%2Fb/tasks", { payload: 1 });
    expect(res.status).toBe(400);
    expect(res.error?.message).toContain("cannot contain `/`");
  });

  it("answers an unknown route 404 without looking at the token", async () => {
    const res = await call("GET", "/v1/nothing-here", undefined, { token: null });
    expect(res.status).toBe(404);
  });
});

describe("query parameters", () => {
  /** Every list route with paging, on fresh names. */
  const LISTS = [
    "/v1/queues",
    "/v1/state/{n}",
    "/v1/queues/{n}/tasks?state=ready&",
    "/v1/queues/{n}/dead",
    "/v1/queues/{n}/schedules",
    "/v1/topics/{n}/events",
    "/v1/tokens",
  ];
  const at = (route: string, query: string) =>
    `${route.replace("{n}", unique("q"))}${route.endsWith("&") ? "" : "?"}${query}`;

  it.each(LISTS)("%s takes empty paging parameters as absent (a first page)", async (route) => {
    const res = await call("GET", at(route, "limit=&cursor="));
    expect(res.status, res.text).toBe(200);
  });

  it.each(["0x10", "1e1", "1.0", " 5", "+5"])(
    "refuses limit=%s: decimal digits only, as in a body",
    async (limit) => {
      for (const route of LISTS)
        expectInvalidField(await call("GET", at(route, `limit=${encodeURIComponent(limit)}`)), "limit");
    },
  );
});

describe("unknown fields (API.md 1.1)", () => {
  it("names the first unknown field by its dotted path from the body's root", async () => {
    const top = await call("POST", `/v1/locks/${unique("l")}/acquire`, { owner: "a", ttl: 5 });
    expect(top.status).toBe(400);
    expect(top.error?.details?.field).toBe("ttl");

    const nested = await call("POST", `/v1/queues/${unique("q")}/tasks`, {
      tasks: [{ payload: 1 }, { payload: 2, delay: 5 }],
    });
    expect(nested.status).toBe(400);
    expect(nested.error?.details?.field).toBe("tasks.1.delay");
  });

  it.each([
    [
      "a typo for a scope's action",
      "POST",
      "/v1/tokens",
      { scopes: [{ resource: "state:app", action: ["read"] }] },
      "scopes.0.action",
    ],
    [
      "an unknown field beside a missing prefix",
      "PUT",
      `/v1/mirrors/state/${unique("m")}`,
      { redis: { bogus: 1 } },
      "redis.bogus",
    ],
    ["a typo for a required field", "POST", `/v1/locks/${unique("l")}/acquire`, { ownr: "a" }, "ownr"],
    [
      "an unknown field beside a bad value",
      "POST",
      `/v1/locks/${unique("l")}/acquire`,
      { owner: "a", ttlMs: 5, ttl: 5 },
      "ttl",
    ],
    [
      "a typo inside a batch",
      "POST",
      `/v1/queues/${unique("q")}/tasks`,
      { tasks: [{ paylod: 1 }] },
      "tasks.0.paylod",
    ],
    [
      "a typo inside a txn op",
      "POST",
      `/v1/state/${unique("ns")}/txn`,
      { success: [{ op: "put", key: "a", valu: 1 }] },
      "success.0.valu",
    ],
    ["a typo for a breaker outcome", "POST", `/v1/breakers/${unique("b")}/record`, { okay: true }, "okay"],
  ])("names the unknown field whatever else is wrong: %s", async (_label, method, path, body, field) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
    expect(res.error?.message).toBe(`${field}: unknown field`);
  });

  it("refuses fields on a POST that takes no body, and takes none or {}", async () => {
    const breaker = `/v1/breakers/${unique("b")}/acquire`;
    const topic = unique("t");
    const sub = await call("POST", `/v1/topics/${topic}/subscriptions`, {
      url: "http://127.0.0.1:9/hook",
    });
    const pause = `/v1/topics/${topic}/subscriptions/${sub.body.id}/pause`;
    const resume = `/v1/topics/${topic}/subscriptions/${sub.body.id}/resume`;
    for (const path of [breaker, pause, resume]) {
      const refused = await call("POST", path, { x: 1 });
      expect(refused.status).toBe(400);
      expect(refused.error?.details?.field).toBe("x");
      expect((await call("POST", path, {})).status).toBe(200);
      expect((await call("POST", path)).status).toBe(200);
    }
  });

  it("never checks fields inside values typed as any JSON", async () => {
    const res = await call("PUT", `/v1/state/${unique("ns")}/k`, { value: { anything: { goes: true } } });
    expect(res.status).toBe(200);
  });
});

describe("the generic 500", () => {
  it("answers an unexpected throw 500 in the error shape, without the message or stack", async () => {
    const app = createRouter();
    app.onError(onError);
    app.notFound(notFound(() => app.routes));
    app.get("/boom", () => {
      throw new Error("secret detail at /srv/app.ts:12");
    });
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("secret");
  });
});
