import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectDocumented, unique } from "../helpers.ts";

const DEFAULTS = {
  consecutiveFailures: 5,
  minimumCalls: 10,
  windowMs: 60_000,
  openMs: 30_000,
  halfOpenProbes: 1,
};

/** A breaker's path: the answers of its routes are typed by it. */
type BreakerPath = `/v1/breakers/${string}`;

/** A fresh breaker configured with `config`; returns its path. */
async function configured(config: Record<string, unknown>): Promise<BreakerPath> {
  const path: BreakerPath = `/v1/breakers/${unique("br")}`;
  const res = await call("PUT", path, config);
  expect(res.status).toBe(200);
  return path;
}

/** A fresh breaker that opens on its rates alone: 1000 failures in a row never come in these tests. */
const rateBased = (config: Record<string, unknown>) => configured({ consecutiveFailures: 1000, ...config });

const record = (path: BreakerPath, ok: boolean, latencyMs?: number) =>
  call("POST", `${path}/record`, latencyMs === undefined ? { ok } : { ok, latencyMs });
const acquire = (path: BreakerPath) => call("POST", `${path}/acquire`);
const counters = async (path: BreakerPath) => (await call("GET", path)).body.counters;
const stub = (path: string) => env.BREAKERS.getByName(path.split("/").at(-1) as string);

describe("PUT /v1/breakers/{name}", () => {
  it("fills in the defaults and answers the config in force", async () => {
    const path: BreakerPath = `/v1/breakers/${unique("br")}`;
    const res = await call("PUT", path, {});
    expect(res.body).toEqual(DEFAULTS);
    const full = { ...DEFAULTS, failureRate: 0.5, slowCallMs: 250, halfOpenProbes: 3 };
    expect((await call("PUT", path, full)).body).toEqual(full);
    expect((await call("GET", path)).body.config).toEqual(full);
  });

  it.each([
    ["consecutiveFailures", 0],
    ["consecutiveFailures", 1001],
    ["consecutiveFailures", 2.5],
    ["consecutiveFailures", "5"],
    ["failureRate", 0],
    ["failureRate", 1.01],
    ["minimumCalls", 0],
    ["minimumCalls", 10_001],
    ["windowMs", 999],
    ["windowMs", 3_600_001],
    ["slowCallMs", 0],
    ["slowCallMs", 1.5],
    ["openMs", 99],
    ["openMs", 3_600_001],
    ["halfOpenProbes", 0],
    ["halfOpenProbes", 101],
  ])("refuses %s = %j with 400 naming the field", async (field, value) => {
    const res = await call("PUT", `/v1/breakers/${unique("br")}`, { [field]: value });
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({ code: "invalid_request", details: { field } });
  });

  it("accepts the edges of every range", async () => {
    const low = {
      consecutiveFailures: 1,
      failureRate: 1,
      minimumCalls: 1,
      windowMs: 1_000,
      openMs: 100,
      halfOpenProbes: 1,
    };
    expect((await call("PUT", `/v1/breakers/${unique("br")}`, low)).status).toBe(200);
    const high = {
      consecutiveFailures: 1000,
      minimumCalls: 10_000,
      windowMs: 3_600_000,
      openMs: 3_600_000,
      halfOpenProbes: 100,
    };
    expect((await call("PUT", `/v1/breakers/${unique("br")}`, high)).status).toBe(200);
  });

  it("refuses a bad name, a non-JSON body and a wrong method", async () => {
    const bad = await call("PUT", "/v1/breakers/-nope", {});
    expect(bad.status).toBe(400);
    expect(bad.error?.details?.field).toBe("name");
    const text = await call("PUT", "/v1/breakers/x", undefined, {
      raw: "a=1",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    const wrong = await call("DELETE", "/v1/breakers/x");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("PUT, GET");
  });
});

describe("GET /v1/breakers/{name}", () => {
  it("shows a never-configured breaker closed, with the defaults and zero counters", async () => {
    const res = await call("GET", `/v1/breakers/${unique("br")}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      state: "closed",
      config: DEFAULTS,
      counters: { calls: 0, failures: 0, rejected: 0, opened: 0 },
    });
  });

  it("needs a token", async () => {
    expect((await call("GET", "/v1/breakers/x", undefined, { token: null })).status).toBe(401);
  });
});

describe("POST /v1/breakers/{name}/record", () => {
  it.each([
    [{}, "ok"],
    [{ ok: "yes" }, "ok"],
    [{ ok: true, latencyMs: -1 }, "latencyMs"],
    [{ ok: true, latencyMs: 1.5 }, "latencyMs"],
  ])("refuses %j with 400", async (body, field) => {
    const res = await call("POST", `/v1/breakers/${unique("br")}/record`, body);
    expect(res.status).toBe(400);
    expect(res.error?.details?.field).toBe(field);
  });

  it("opens after consecutiveFailures failures in a row; a success in between resets the run", async () => {
    const path = await configured({ consecutiveFailures: 2 });
    expect((await record(path, false)).body).toEqual({ state: "closed" });
    await record(path, true);
    await record(path, false);
    const opened = await record(path, false);
    expect(opened.body).toEqual({ state: "open", retryAfterMs: 30_000 });
  });

  it("takes a batch of outcomes in order", async () => {
    const path = await configured({ consecutiveFailures: 2 });
    const res = await call("POST", `${path}/record-batch`, {
      outcomes: [{ ok: false }, { ok: true }, { ok: false }],
    });
    expect(res.body).toEqual({ state: "closed" });
    expect((await call("POST", `${path}/record-batch`, { outcomes: [{ ok: false }] })).body).toEqual({
      state: "open",
      retryAfterMs: 30_000,
    });
    expect(await counters(path)).toEqual({ calls: 4, failures: 3, rejected: 0, opened: 1 });
  });

  it("refuses an empty or oversized batch", async () => {
    const path = `/v1/breakers/${unique("br")}/record-batch`;
    expect((await call("POST", path, { outcomes: [] })).status).toBe(400);
    const many = Array.from({ length: 1001 }, () => ({ ok: true }));
    expect((await call("POST", path, { outcomes: many })).status).toBe(400);
  });
});

describe("rate-based opening", () => {
  it("opens on the failure rate only once minimumCalls are in the window", async () => {
    const path = await rateBased({ failureRate: 0.5, minimumCalls: 4 });
    for (const ok of [false, true, false]) expect((await record(path, ok)).body.state).toBe("closed");
    expect((await record(path, false)).body.state).toBe("open");
  });

  it("counts calls slower than slowCallMs towards the rate", async () => {
    const path = await rateBased({ failureRate: 0.5, minimumCalls: 2, slowCallMs: 100 });
    expect((await record(path, true, 99)).body.state).toBe("closed");
    expect((await record(path, true, 100)).body.state).toBe("open");
  });

  it("does not open below the rate", async () => {
    const path = await rateBased({ failureRate: 0.7, minimumCalls: 5 });
    for (const ok of [false, true, false, true, false, true]) await record(path, ok);
    expect((await call("GET", path)).body.state).toBe("closed");
  });
});

describe("open, half-open and the probes", () => {
  /** A breaker that has just opened. */
  async function opened(config: Record<string, unknown> = {}) {
    const path = await configured({ consecutiveFailures: 1, openMs: 60_000, ...config });
    await record(path, false);
    return path;
  }

  it("refuses calls while open with retryAfterMs, and counts them", async () => {
    const path = await opened();
    const res = await acquire(path);
    expect(res.body).toEqual({ state: "open", allowed: false, retryAfterMs: expect.any(Number) });
    expect(res.body.retryAfterMs).toBeGreaterThan(59_000);
    expect(res.body.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(await counters(path)).toEqual({ calls: 1, failures: 1, rejected: 1, opened: 1 });
  });

  it("turns half-open on the alarm at the end of openMs, and lets exactly halfOpenProbes callers probe", async () => {
    const path = await opened({ halfOpenProbes: 3 });
    expect(await runDurableObjectAlarm(stub(path))).toBe(true);
    expect((await call("GET", path)).body.state).toBe("half_open");
    const answers = await Promise.all(Array.from({ length: 10 }, () => acquire(path)));
    expect(answers.filter((a) => a.body.allowed)).toHaveLength(3);
    expect(answers.every((a) => a.body.state === "half_open")).toBe(true);
    const refused = answers.find((a) => !a.body.allowed);
    expect(refused?.body.retryAfterMs).toBeGreaterThan(0);
    // A reported probe frees its slot for the next caller.
    expect((await record(path, true)).body.state).toBe("half_open");
    expect((await acquire(path)).body.allowed).toBe(true);
    expect((await acquire(path)).body.allowed).toBe(false);
  });

  it("closes after halfOpenProbes successes", async () => {
    const path = await opened({ halfOpenProbes: 2 });
    await runDurableObjectAlarm(stub(path));
    await acquire(path);
    await acquire(path);
    expect((await record(path, true)).body.state).toBe("half_open");
    expect((await record(path, true)).body.state).toBe("closed");
    expect((await acquire(path)).body).toEqual({ state: "closed", allowed: true });
  });

  it("opens again on a failed probe", async () => {
    const path = await opened();
    await runDurableObjectAlarm(stub(path));
    expect((await acquire(path)).body.allowed).toBe(true);
    expect((await record(path, false)).body.state).toBe("open");
    expect((await counters(path)).opened).toBe(2);
  });

  it("frees the slot of a probe that never reports when the alarm runs", async () => {
    const path = await opened({ halfOpenProbes: 1 });
    await runDurableObjectAlarm(stub(path));
    expect((await acquire(path)).body.allowed).toBe(true);
    expect((await acquire(path)).body.allowed).toBe(false);
    expect(await runDurableObjectAlarm(stub(path))).toBe(true);
    expect((await acquire(path)).body.allowed).toBe(true);
  });

  it("has no alarm while closed, and an idempotent one", async () => {
    const path = await configured({});
    expect(await runDurableObjectAlarm(stub(path))).toBe(false);
    const open = await opened();
    await runDurableObjectAlarm(stub(open));
    expect(await runDurableObjectAlarm(stub(open))).toBe(false);
    expect((await call("GET", open)).body.state).toBe("half_open");
  });
});

describe("persistence", () => {
  it("keeps the config, state, window and counters across an eviction", async () => {
    const path = await rateBased({ failureRate: 0.5, minimumCalls: 4, openMs: 5_000 });
    await call("POST", `${path}/record-batch`, { outcomes: [{ ok: false }, { ok: true }, { ok: false }] });
    await evictDurableObject(stub(path));
    const before = (await call("GET", path)).body;
    expect(before.state).toBe("closed");
    expect(before.config).toMatchObject({ failureRate: 0.5, openMs: 5_000 });
    // The three outcomes survived: one more failure makes 3 of 4.
    expect((await record(path, false)).body.state).toBe("open");
    await evictDurableObject(stub(path));
    expect((await acquire(path)).body).toMatchObject({ state: "open", allowed: false });
    const alarmAt = await runInDurableObject(stub(path), (_o, state) => state.storage.getAlarm());
    expect(alarmAt).toBeGreaterThan(Date.now());
  });

  it("keeps the state when reconfigured", async () => {
    const path = await configured({ consecutiveFailures: 1 });
    await record(path, false);
    await call("PUT", path, { consecutiveFailures: 3, halfOpenProbes: 2 });
    const info = (await call("GET", path)).body;
    expect(info.state).toBe("open");
    expect(info.counters.opened).toBe(1);
  });
});

describe("OpenAPI", () => {
  it("documents every breaker route", async () => {
    await expectDocumented([
      "/v1/breakers/{name}",
      "/v1/breakers/{name}/acquire",
      "/v1/breakers/{name}/record",
      "/v1/breakers/{name}/record-batch",
    ]);
  });
});
