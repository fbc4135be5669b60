import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Semaphore } from "../../../durable-objects/logic/semaphore.ts";

const OWNERS = ["a", "b", "c", "d", "e"];

type Step =
  | { op: "acquire"; owner: string; ttlMs: number; wait: boolean }
  | { op: "release"; owner: string; pick: number }
  | { op: "extend"; owner: string; pick: number; ttlMs: number }
  | { op: "tick"; ms: number }
  | { op: "giveUp"; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant("acquire" as const),
    owner: fc.constantFrom(...OWNERS),
    ttlMs: fc.integer({ min: 100, max: 5000 }),
    wait: fc.boolean(),
  }),
  fc.record({ op: fc.constant("release" as const), owner: fc.constantFrom(...OWNERS), pick: fc.nat() }),
  fc.record({
    op: fc.constant("extend" as const),
    owner: fc.constantFrom(...OWNERS),
    pick: fc.nat(),
    ttlMs: fc.integer({ min: 100, max: 5000 }),
  }),
  fc.record({ op: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ op: fc.constant("giveUp" as const), pick: fc.nat() }),
);

describe("Semaphore", () => {
  it("never exceeds its permits, only raises tokens, and refuses dead tokens", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(step, { maxLength: 120 }), (permits, steps) => {
        const sem = new Semaphore({ permits, nextToken: 1, holders: [] });
        let now = 1_000_000;
        let maxToken = 0;
        let waiterId = 0;
        const dead: Array<{ owner: string; token: number }> = [];
        const issued: Array<{ owner: string; token: number }> = [];
        const onGrant = (owner: string, token: number) => {
          const renewal = issued.some((g) => g.owner === owner && g.token === token);
          if (!renewal) {
            expect(token).toBeGreaterThan(maxToken);
            maxToken = token;
            issued.push({ owner, token });
          }
        };
        const settle = () => {
          for (const h of sem.expire(now)) dead.push({ owner: h.owner, token: h.token });
          for (const { holder } of sem.grantWaiters(now)) onGrant(holder.owner, holder.token);
        };
        for (const s of steps) {
          settle();
          switch (s.op) {
            case "acquire": {
              const d = sem.acquire(s.owner, s.ttlMs, permits, now);
              if (d.kind === "granted") onGrant(d.holder.owner, d.holder.token);
              else if (d.kind === "held" && s.wait)
                sem.enqueue({ id: ++waiterId, owner: s.owner, ttlMs: s.ttlMs });
              expect(d.kind).not.toBe("conflict");
              break;
            }
            case "release": {
              const live = sem.list().filter((h) => h.owner === s.owner);
              const target = live[0];
              if (target && s.pick % 2 === 0) {
                expect(sem.release(target.owner, target.token, now)).toBe(true);
                dead.push(target);
              } else if (dead.length > 0) {
                const d = dead[s.pick % dead.length] as { owner: string; token: number };
                expect(sem.release(d.owner, d.token, now)).toBe(false);
              }
              break;
            }
            case "extend": {
              if (dead.length > 0) {
                const d = dead[s.pick % dead.length] as { owner: string; token: number };
                expect(sem.extend(d.owner, d.token, s.ttlMs, now)).toBeUndefined();
              }
              const live = sem.list().find((h) => h.owner === s.owner);
              if (live)
                expect(sem.extend(live.owner, live.token, s.ttlMs, now)?.expiresAt).toBe(now + s.ttlMs);
              break;
            }
            case "tick":
              now += s.ms;
              break;
            case "giveUp":
              if (sem.waiters.length > 0) {
                const w = sem.waiters[s.pick % sem.waiters.length];
                if (w) expect(sem.dequeue(w.id)).toBe(true);
              }
              break;
          }
          settle();
          expect(sem.holders.size).toBeLessThanOrEqual(permits);
          // A free permit never sits idle while someone waits.
          if (sem.waiters.length > 0) expect(sem.holders.size).toBe(permits);
          for (const h of sem.list()) expect(h.expiresAt).toBeGreaterThan(now);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("serves waiters in arrival order", () => {
    const sem = new Semaphore({ permits: 1, nextToken: 1, holders: [] });
    const first = sem.acquire("a", 1000, 1, 0);
    expect(first.kind).toBe("granted");
    for (const [id, owner] of ["b", "c", "d"].entries()) sem.enqueue({ id, owner, ttlMs: 1000 });
    const order: string[] = [];
    let now = 0;
    while (sem.waiters.length > 0) {
      now += 1000;
      sem.expire(now);
      for (const g of sem.grantWaiters(now)) order.push(g.holder.owner);
    }
    expect(order).toEqual(["b", "c", "d"]);
  });

  it("reports the wait until the earliest expiry", () => {
    const sem = new Semaphore({ permits: 2, nextToken: 7, holders: [] });
    sem.acquire("a", 500, 2, 0);
    sem.acquire("b", 300, 2, 0);
    expect(sem.acquire("c", 100, 2, 100)).toEqual({ kind: "held", retryAfterMs: 200 });
    expect(sem.acquire("c", 100, 3, 100)).toEqual({ kind: "conflict", permits: 2 });
  });
});
