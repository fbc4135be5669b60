import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { HttpTransport } from "../../../shared/client/http.ts";
import { httpLocks, type LockApi, LockClient, LockManager, rpcLocks } from "../../../shared/client/locks.ts";
import { ApiError } from "../../../shared/errors.ts";
import { TOKEN, unique } from "../helpers.ts";

const http = new HttpTransport({
  baseUrl: "http://localhost",
  token: TOKEN,
  fetch: (r) => exports.default.fetch(r),
});

const transports: Array<[string, LockApi]> = [
  ["HTTP", httpLocks(http)],
  ["the service binding", rpcLocks(exports.SwitchyardRpc)],
];

describe.each(transports)("LockClient over %s", (_label, api) => {
  const locks = new LockClient(api);

  it("runs fn with the fencing token and releases afterwards", async () => {
    const name = unique("client");
    const seen = await locks.withLock(name, async (lock) => {
      const info = await locks.api.info(name);
      expect(info.ok && info.value.holders[0]?.token).toBe(lock.token);
      return lock.token;
    });
    expect(seen).toBeGreaterThan(0);
    const after = await locks.api.info(name);
    expect(after.ok && after.value.holders).toEqual([]);
  });

  it("releases when fn throws", async () => {
    const name = unique("client");
    await expect(
      locks.withLock(name, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    const after = await locks.api.info(name);
    expect(after.ok && after.value.holders).toEqual([]);
  });

  it("keeps the grant alive while fn runs past its TTL", async () => {
    const name = unique("client");
    const renewals: number[] = [];
    await locks.withLock(
      name,
      async (lock) => {
        // Wait for two renewals (event-driven, with a deadline), longer than the 300 ms TTL.
        const deadline = Date.now() + 5_000;
        while (renewals.length < 2 && Date.now() < deadline) await scheduler.wait(20);
        const info = await locks.api.info(name);
        expect(info.ok && info.value.holders[0]?.token).toBe(lock.token);
        expect(lock.signal.aborted).toBe(false);
      },
      { ttlMs: 300, onRenew: (at) => renewals.push(at) },
    );
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals[1]).toBeGreaterThan(renewals[0] as number);
  });

  it("throws lock_held with retryAfterMs when the lock stays taken", async () => {
    const name = unique("client");
    await locks.acquire(name, { owner: "other", ttlMs: 60_000 });
    const err = await locks.withLock(name, async () => "never", { waitMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe("lock_held");
    expect((err as ApiError).details?.retryAfterMs).toBeGreaterThan(0);
  });

  it("reports bad input as invalid_request", async () => {
    const result = await api.acquire("bad name", { owner: "a" });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({ code: "invalid_request", details: { field: "name" } });
  });

  it("LockManager releases every grant it holds on close()", async () => {
    const manager = new LockManager(locks);
    const names = [unique("m"), unique("m"), unique("m")];
    for (const name of names) await manager.acquire(name, { owner: "mgr" });
    expect(manager.held).toHaveLength(3);
    await manager.close();
    expect(manager.held).toHaveLength(0);
    for (const name of names) {
      const info = await locks.api.info(name);
      expect(info.ok && info.value.holders).toEqual([]);
    }
  });
});

describe("HttpTransport", () => {
  /** A transport to the Worker through `fetch`, retrying after 1 ms. */
  const retrying = (fetch: typeof globalThis.fetch, maxAttempts?: number) =>
    new HttpTransport({
      baseUrl: "http://localhost",
      token: TOKEN,
      maxAttempts,
      backoff: { kind: "constant", initialDelayMs: 1, maxDelayMs: 1, jitter: "none" },
      fetch,
    });

  it("retries network errors with backoff, then succeeds", async () => {
    let calls = 0;
    const flaky = retrying(async (r) => {
      calls++;
      if (calls < 3) throw new TypeError("connection reset");
      return exports.default.fetch(r);
    });
    const result = await flaky.request("GET", "/health");
    expect(result).toEqual({ ok: true, value: { ok: true, version: expect.any(String) } });
    expect(calls).toBe(3);
  });

  it("does not resend a POST unless the caller marks it idempotent", async () => {
    let calls = 0;
    const once = retrying(async () => {
      calls++;
      throw new TypeError("connection reset after the request was sent");
    });
    const result = await once.request("POST", "/v1/state/ns/counter/increment", { by: 1 });
    expect(!result.ok && result.error.code).toBe("unavailable");
    expect(calls).toBe(1);
    await once.request("POST", "/v1/locks/x/acquire", { owner: "a" }, { idempotent: true });
    expect(calls).toBe(4);
  });

  it("gives up after maxAttempts with unavailable", async () => {
    const down = retrying(async () => {
      throw new TypeError("connection refused");
    }, 2);
    const result = await down.request("GET", "/health");
    expect(!result.ok && result.error.code).toBe("unavailable");
  });
});
