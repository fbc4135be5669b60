import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { unique } from "../helpers.ts";

describe("breakers over RPC", () => {
  it("gives the same answers as HTTP, and failures as results", async () => {
    using breakers = await exports.SwitchyardRpc.breakers();
    const name = unique("rpc");
    const configured = await breakers.configure(name, { consecutiveFailures: 1 });
    expect(configured).toEqual({
      ok: true,
      value: expect.objectContaining({ consecutiveFailures: 1, openMs: 30_000 }),
    });
    expect(await breakers.acquire(name)).toEqual({ ok: true, value: { state: "closed", allowed: true } });
    expect(await breakers.recordBatch(name, { outcomes: [{ ok: true }] })).toEqual({
      ok: true,
      value: { state: "closed" },
    });
    const opened = await breakers.record(name, { ok: false });
    expect(opened).toEqual({ ok: true, value: { state: "open", retryAfterMs: 30_000 } });
    const info = await breakers.info(name);
    expect(info.ok && info.value.counters).toEqual({ calls: 2, failures: 1, rejected: 0, opened: 1 });
    const bad = await breakers.configure(name, { halfOpenProbes: 0 });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: "invalid_request", details: { field: "halfOpenProbes" } },
    });
    expect(await breakers.acquire("-bad")).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    expect(await breakers.record(name, {})).toMatchObject({ ok: false, error: { details: { field: "ok" } } });
  });
});
