import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";

const acquire = (name: string, body: Record<string, unknown>) =>
  call("POST", `/v1/locks/${name}/acquire`, body);
const release = (name: string, owner: string, token: number) =>
  call("POST", `/v1/locks/${name}/release`, { owner, token });
const info = async (name: string) => (await call("GET", `/v1/locks/${name}`)).body;

/** Resolves once `waiters` callers are queued on the lock (a poll with a deadline, no fixed sleep). */
async function waitersQueued(name: string, waiters: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await info(name)).waiters !== waiters) {
    if (Date.now() > deadline) throw new Error(`never saw ${waiters} waiters on ${name}`);
    await scheduler.wait(5);
  }
}

describe("expiry", () => {
  it("the alarm removes an expired grant with nobody calling", async () => {
    const name = unique("lock");
    const stub = env.LOCKS.getByName(name);
    await acquire(name, { owner: "a", ttlMs: 100 });
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await info(name)).holders).toEqual([]);
    // Cleanup leaves no alarm behind once nothing is held.
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBeNull();
  });

  it("a released or expired token is refused, and the next grant's token is higher", async () => {
    const name = unique("lock");
    const stub = env.LOCKS.getByName(name);
    const first = (await acquire(name, { owner: "a", ttlMs: 100 })).body;
    await runDurableObjectAlarm(stub);
    expect((await release(name, "a", first.token)).error?.code).toBe("not_holder");
    const second = (await acquire(name, { owner: "a" })).body;
    expect(second.token).toBeGreaterThan(first.token);
  });

  it("hands an expired grant to the first waiter, driven by the alarm", async () => {
    const name = unique("lock");
    const stub = env.LOCKS.getByName(name);
    const held = (await acquire(name, { owner: "a", ttlMs: 60_000 })).body;
    const waiting = acquire(name, { owner: "b", waitMs: 30_000 });
    await waitersQueued(name, 1);
    // The alarm runs as at the instant it was set for: the grant's expiry.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const result = await waiting;
    expect(result.status).toBe(200);
    expect(result.body.owner).toBe("b");
    expect(result.body.token).toBe(held.token + 1);
    expect(await info(name)).toMatchObject({ holders: [{ owner: "b" }], waiters: 0 });
  });
});

describe("waiting", () => {
  it("serves waiters first come, first served as the holder releases", async () => {
    const name = unique("lock");
    const first = (await acquire(name, { owner: "a" })).body;
    const order: string[] = [];
    // Queue them one at a time so that their arrival order is known.
    const waiters = [];
    for (const owner of ["b", "c", "d"]) {
      waiters.push(acquire(name, { owner, waitMs: 30_000 }));
      await waitersQueued(name, waiters.length);
    }
    let token = first.token;
    let owner = "a";
    for (const next of waiters) {
      expect((await release(name, owner, token)).status).toBe(200);
      const granted = (await next).body;
      order.push(granted.owner);
      expect(granted.token).toBe(token + 1);
      token = granted.token;
      owner = granted.owner;
    }
    expect(order).toEqual(["b", "c", "d"]);
  });

  it("a waiter that gives up gets 409 lock_held and leaves the queue", async () => {
    const name = unique("lock");
    await acquire(name, { owner: "a", ttlMs: 60_000 });
    const res = await acquire(name, { owner: "b", waitMs: 50 });
    expectError(res, 409, "lock_held");
    expect((await info(name)).waiters).toBe(0);
  });

  it("a newcomer does not overtake queued waiters", async () => {
    const name = unique("lock");
    const held = (await acquire(name, { owner: "a", permits: 2 })).body;
    await acquire(name, { owner: "b", permits: 2 });
    const waiting = acquire(name, { owner: "c", permits: 2, waitMs: 30_000 });
    await waitersQueued(name, 1);
    expect((await release(name, "a", held.token)).status).toBe(200);
    expect((await waiting).body.owner).toBe("c");
    expect((await acquire(name, { owner: "d", permits: 2 })).error?.code).toBe("lock_held");
  });
});

describe("semaphores", () => {
  it("lets up to `permits` owners hold at once, each with its own token", async () => {
    const name = unique("sem");
    const grants = [];
    for (const owner of ["a", "b", "c"]) grants.push((await acquire(name, { owner, permits: 3 })).body);
    expect(new Set(grants.map((g) => g.token)).size).toBe(3);
    const fourth = await acquire(name, { owner: "d", permits: 3 });
    expect(fourth.error?.code).toBe("lock_held");
  });

  it("answers 409 conflict to a request whose permits differ from the live setting", async () => {
    const name = unique("sem");
    await acquire(name, { owner: "a", permits: 3 });
    const res = await acquire(name, { owner: "b", permits: 2 });
    expectError(res, 409, "conflict");
    expect(res.error?.details?.permits).toBe(3);
  });

  it("takes a new permit count once the lock is free again", async () => {
    const name = unique("sem");
    const a = (await acquire(name, { owner: "a", permits: 3 })).body;
    await release(name, "a", a.token);
    expect((await acquire(name, { owner: "b", permits: 5 })).status).toBe(200);
    expect((await info(name)).permits).toBe(5);
  });
});

describe("restarts", () => {
  it("keeps grants and keeps tokens increasing across an object restart", async () => {
    const name = unique("lock");
    const stub = env.LOCKS.getByName(name);
    const a = (await acquire(name, { owner: "a", ttlMs: 60_000 })).body;
    await release(name, "a", a.token);
    const b = (await acquire(name, { owner: "b", ttlMs: 60_000 })).body;
    await evictDurableObject(stub);
    expect((await info(name)).holders).toEqual([{ owner: "b", token: b.token, expiresAt: b.expiresAt }]);
    expect((await release(name, "b", b.token)).status).toBe(200);
    const c = (await acquire(name, { owner: "c" })).body;
    expect(c.token).toBe(b.token + 1);
  });

  it("still expires a grant by the alarm after a restart", async () => {
    const name = unique("lock");
    const stub = env.LOCKS.getByName(name);
    await acquire(name, { owner: "a", ttlMs: 100 });
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await info(name)).holders).toEqual([]);
  });
});
