import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, expectError, unique } from "../helpers.ts";

const OWNERS = ["a", "b", "c", "d"];

type Command =
  | { op: "acquire"; owner: string }
  | { op: "release"; owner: string; stale: boolean; pick: number }
  | { op: "extend"; owner: string; stale: boolean; pick: number }
  | { op: "expire" }
  | { op: "restart" };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constant("acquire" as const), owner: fc.constantFrom(...OWNERS) }),
    weight: 3,
  },
  fc.record({
    op: fc.constant("release" as const),
    owner: fc.constantFrom(...OWNERS),
    stale: fc.boolean(),
    pick: fc.nat(),
  }),
  fc.record({
    op: fc.constant("extend" as const),
    owner: fc.constantFrom(...OWNERS),
    stale: fc.boolean(),
    pick: fc.nat(),
  }),
  fc.record({ op: fc.constant("expire" as const) }),
  fc.record({ op: fc.constant("restart" as const) }),
);

interface Grant {
  owner: string;
  token: number;
}

describe("locks under random interleavings (real object, storage and alarms)", () => {
  it("never more holders than permits; tokens only grow, across restarts; dead tokens are refused", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(command, { maxLength: 25 }),
        async (permits, cmds) => {
          const name = unique("prop");
          const stub = env.LOCKS.getByName(name);
          const dead: Grant[] = [];
          let maxToken = 0;
          const holders = async (): Promise<Grant[]> => (await call("GET", `/v1/locks/${name}`)).body.holders;
          for (const c of cmds) {
            const before = await holders();
            switch (c.op) {
              case "acquire": {
                const res = await call("POST", `/v1/locks/${name}/acquire`, {
                  owner: c.owner,
                  permits,
                  ttlMs: 60_000,
                });
                const mine = before.find((h) => h.owner === c.owner);
                if (mine) {
                  expect(res.body.token).toBe(mine.token);
                } else if (before.length < permits) {
                  expect(res.status).toBe(200);
                  expect(res.body.token).toBeGreaterThan(maxToken);
                  maxToken = res.body.token;
                } else {
                  expect(res.error?.code).toBe("lock_held");
                }
                break;
              }
              case "release":
              case "extend": {
                const pool = c.stale ? dead : before.filter((h) => h.owner === c.owner);
                const target = pool[c.pick % Math.max(1, pool.length)];
                if (!target) break;
                const body =
                  c.op === "release"
                    ? { owner: target.owner, token: target.token }
                    : { owner: target.owner, token: target.token, ttlMs: 60_000 };
                const res = await call("POST", `/v1/locks/${name}/${c.op}`, body);
                if (c.stale) {
                  expectError(res, 409, "not_holder");
                } else {
                  expect(res.status).toBe(200);
                  if (c.op === "release") dead.push(target);
                }
                break;
              }
              case "expire": {
                await runDurableObjectAlarm(stub);
                const after = await holders();
                for (const h of before) if (!after.some((a) => a.token === h.token)) dead.push(h);
                break;
              }
              case "restart":
                await evictDurableObject(stub);
                expect(await holders()).toEqual(before);
                break;
            }
            expect((await holders()).length).toBeLessThanOrEqual(permits);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("contention", () => {
  it("50 clients doing read-modify-write under the lock lose no update", async () => {
    const name = unique("counter");
    let counter = 0;
    const client = async (id: number) => {
      const grant = await call("POST", `/v1/locks/${name}/acquire`, {
        owner: `client-${id}`,
        waitMs: 60_000,
        ttlMs: 60_000,
      });
      expect(grant.status).toBe(200);
      const read = counter;
      // Yield between the read and the write, as a real remote store would.
      await scheduler.wait(1);
      counter = read + 1;
      const released = await call("POST", `/v1/locks/${name}/release`, {
        owner: `client-${id}`,
        token: grant.body.token,
      });
      expect(released.status).toBe(200);
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => client(i)));
    expect(counter).toBe(50);
  });
});
