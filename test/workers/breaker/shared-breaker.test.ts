import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  BrokenCircuitError,
  ManualClock,
  retry,
  type SharedBreakerOptions,
  sharedBreaker,
  timeout,
  wrap,
} from "../../../shared/resilience/index.ts";
import { call, TOKEN, unique } from "../helpers.ts";

/** The Worker's own fetch, counting requests per route. */
function worker() {
  const hits: string[] = [];
  const fetch = (request: Request) => {
    hits.push(new URL(request.url).pathname.split("/").slice(4).join("/") || "info");
    return exports.default.fetch(request);
  };
  return { fetch, hits };
}

/** One isolate's view of breaker `name`: its own cache, queue and clock. */
function isolate(name: string, options: Partial<SharedBreakerOptions> = {}) {
  const clock = new ManualClock(Date.now());
  const w = worker();
  const policy = sharedBreaker(name, {
    baseUrl: "http://localhost",
    token: TOKEN,
    fetch: w.fetch,
    clock,
    ...options,
  });
  return { policy, clock, hits: w.hits };
}

async function configure(config: Record<string, unknown>) {
  const name = unique("shared");
  expect((await call("PUT", `/v1/breakers/${name}`, config)).status).toBe(200);
  return name;
}

const up = async () => "up";
const down = async () => {
  throw new Error("down");
};
const attempt = (p: Promise<unknown>) =>
  p.then(
    () => "ran",
    (e: unknown) => (e instanceof BrokenCircuitError ? `refused ${e.state}` : "failed"),
  );

describe("sharedBreaker", () => {
  it("on a healthy path asks once per staleMs and reports in batches", async () => {
    const name = await configure({});
    const a = isolate(name, { staleMs: 60_000, maxBatch: 20, flushMs: 60_000 });
    for (let i = 0; i < 50; i++) expect(await a.policy.execute(up)).toBe("up");
    await a.policy.flush();
    expect(a.hits).toEqual(["acquire", "record-batch", "record-batch", "record-batch"]);
    expect(a.policy.requests).toBe(4);
    expect((await call("GET", `/v1/breakers/${name}`)).body.counters.calls).toBe(50);
  });

  it("asks before every call with the cache off", async () => {
    const name = await configure({});
    const a = isolate(name, { staleMs: 0, maxBatch: 1 });
    for (let i = 0; i < 5; i++) await a.policy.execute(up);
    await a.policy.flush();
    expect(a.hits.filter((h) => h === "acquire")).toHaveLength(5);
    expect(a.hits.filter((h) => h === "record")).toHaveLength(5);
  });

  it("sends queued outcomes after flushMs", async () => {
    const name = await configure({});
    const a = isolate(name, { staleMs: 60_000, flushMs: 500 });
    await a.policy.execute(up);
    await a.policy.execute(up);
    expect(a.hits).toEqual(["acquire"]);
    a.clock.advance(500);
    await a.policy.flush();
    expect(a.hits).toEqual(["acquire", "record-batch"]);
  });

  it("shares one breaker between two isolates: failures in one refuse calls in the other", async () => {
    const name = await configure({ consecutiveFailures: 3, openMs: 60_000 });
    const a = isolate(name, { staleMs: 1_000 });
    const b = isolate(name, { staleMs: 1_000 });
    expect(await b.policy.execute(up)).toBe("up");
    for (let i = 0; i < 3; i++) await attempt(a.policy.execute(down));
    await a.policy.flush();
    expect((await call("GET", `/v1/breakers/${name}`)).body.state).toBe("open");
    // A learnt it from its own reports and refuses without asking.
    const asked = a.hits.length;
    expect(await attempt(a.policy.execute(up))).toBe("refused open");
    expect(a.hits.length).toBe(asked);
    // B still trusts its answer from before: the staleness window at work...
    expect(await attempt(b.policy.execute(up))).toBe("ran");
    // ...until it runs out.
    b.clock.advance(1_000);
    expect(await attempt(b.policy.execute(up))).toBe("refused open");
    await b.policy.flush();
  });

  it("lets only halfOpenProbes callers probe across both isolates, then closes for both", async () => {
    const name = await configure({ consecutiveFailures: 1, openMs: 60_000, halfOpenProbes: 1 });
    const a = isolate(name, { staleMs: 1_000 });
    const b = isolate(name, { staleMs: 1_000 });
    await attempt(a.policy.execute(down));
    await a.policy.flush();
    await runDurableObjectAlarm(env.BREAKERS.getByName(name));
    expect((await call("GET", `/v1/breakers/${name}`)).body.state).toBe("half_open");
    // A still has "open" cached from its own report; once that is stale, both ask the object.
    expect(await attempt(a.policy.execute(up))).toBe("refused open");
    a.clock.advance(1_000);
    b.clock.advance(1_000);
    let probing = 0;
    let peak = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const probe = async () => {
      peak = Math.max(peak, ++probing);
      await gate;
      probing--;
      return "probe";
    };
    const calls = [a, b, a, b].map((i) => attempt(i.policy.execute(probe)));
    await expect.poll(() => probing).toBe(1);
    release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === "ran")).toHaveLength(1);
    expect(results.filter((r) => r === "refused half_open")).toHaveLength(3);
    expect(peak).toBe(1);
    await Promise.all([a.policy.flush(), b.policy.flush()]);
    expect((await call("GET", `/v1/breakers/${name}`)).body.state).toBe("closed");
    a.clock.advance(1_000);
    b.clock.advance(1_000);
    expect(await a.policy.execute(up)).toBe("up");
    expect(await b.policy.execute(up)).toBe("up");
  });

  it("lets calls through when the object cannot be reached, or refuses them if told to", async () => {
    const unreachable = () => Promise.reject(new TypeError("network down"));
    const open = sharedBreaker("x", { baseUrl: "http://localhost", token: TOKEN, fetch: unreachable });
    expect(await open.execute(up)).toBe("up");
    const strict = sharedBreaker("x", {
      baseUrl: "http://localhost",
      token: TOKEN,
      fetch: unreachable,
      onUnavailable: "reject",
    });
    await expect(strict.execute(up)).rejects.toThrow("network down");
    const badToken = sharedBreaker("x", {
      baseUrl: "http://localhost",
      token: "nope",
      fetch: worker().fetch,
      onUnavailable: "reject",
    });
    await expect(badToken.execute(up)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("composes with wrap: retries stop at the shared breaker", async () => {
    const name = await configure({ consecutiveFailures: 2, openMs: 60_000 });
    const a = isolate(name, { staleMs: 10_000 });
    const policy = wrap(
      retry({
        maxAttempts: 5,
        initialDelayMs: 1,
        clock: a.clock,
        retryOn: (e) => !(e instanceof BrokenCircuitError),
      }),
      a.policy,
      timeout({ ms: 1_000, clock: a.clock }),
    );
    let calls = 0;
    const run = policy.execute(async () => {
      calls++;
      throw new Error("down");
    });
    await expect(a.clock.runUntilSettled(run)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(2);
  });
});
