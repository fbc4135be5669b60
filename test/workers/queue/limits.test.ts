/**
 * Lease limits per queue: `PUT`/`GET .../config`, a rate (a bucket whose tokens come back one
 * period after a lease took them) and a concurrency cap, over HTTP leases, long polls and
 * streaming consumers together.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";
import {
  CLIENT_TRANSPORTS,
  enqueue,
  lease,
  qpath,
  queueStub,
  stats,
  storedTasks,
  waiting,
} from "./queue-helpers.ts";
import { type Consumer, consumer } from "./stream-helpers.ts";

const HOUR = 3_600_000;

async function configure(q: string, body: unknown) {
  const res = await call("PUT", qpath(q, "/config"), body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

const leasedRows = async (q: string) => (await storedTasks(q)).filter((t) => t.state === "leased").length;

async function fill(q: string, n: number) {
  await enqueue(q, { tasks: Array.from({ length: n }, (_, i) => ({ payload: i })) });
}

describe("queue config", () => {
  it("answers no limits at first; an absent field stays, null removes; stats shows the limits", async () => {
    const q = unique("lim");
    expect((await call("GET", qpath(q, "/config"))).body).toEqual({ rateLimit: null, maxLeased: null });
    const before = await stats(q);
    expect(before.rateLimit).toBeUndefined();
    expect(before.limited).toBeUndefined();
    expect(await configure(q, { rateLimit: { leases: 5, periodMs: 60_000 } })).toEqual({
      rateLimit: { leases: 5, periodMs: 60_000 },
      maxLeased: null,
    });
    expect(await configure(q, { maxLeased: 3 })).toEqual({
      rateLimit: { leases: 5, periodMs: 60_000 },
      maxLeased: 3,
    });
    expect(await stats(q)).toMatchObject({
      rateLimit: { leases: 5, periodMs: 60_000 },
      maxLeased: 3,
      limited: { rate: 0, concurrency: 0 },
      paused: false,
      totals: { enqueued: 0 },
    });
    expect(await configure(q, { rateLimit: null })).toEqual({ rateLimit: null, maxLeased: 3 });
    expect((await call("GET", qpath(q, "/config"))).body).toEqual({ rateLimit: null, maxLeased: 3 });
  });

  it("refuses bad limits with 400 naming the field", async () => {
    const q = unique("lim");
    const cases: Array<[unknown, string]> = [
      [{ rateLimit: { leases: 0, periodMs: 1000 } }, "rateLimit.leases"],
      [{ rateLimit: { leases: 100_001, periodMs: 1000 } }, "rateLimit.leases"],
      [{ rateLimit: { leases: 1, periodMs: 999 } }, "rateLimit.periodMs"],
      [{ rateLimit: { leases: 1, periodMs: 86_400_001 } }, "rateLimit.periodMs"],
      [{ rateLimit: { leases: 1, periodMs: 1000, burst: 2 } }, "rateLimit.burst"],
      [{ maxLeased: 0 }, "maxLeased"],
      [{ maxLeased: 1.5 }, "maxLeased"],
      [{ maxleased: 1 }, "maxleased"],
    ];
    for (const [body, field] of cases) {
      const res = await call("PUT", qpath(q, "/config"), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.error?.details?.field, JSON.stringify(body)).toBe(field);
    }
  });
});

describe("the rate limit", () => {
  it("answers fewer tasks, then none until the period is over; a long poll waits for the tokens", async () => {
    const q = unique("lim");
    await configure(q, { rateLimit: { leases: 5, periodMs: HOUR } });
    await fill(q, 20);
    // Leases longer than the period, so that the alarm rings first for the tokens.
    expect(await lease(q, { max: 10, visibilityMs: 2 * HOUR })).toHaveLength(5);
    expect(await lease(q, { max: 10 })).toHaveLength(0);
    // Both leases were cut short: the first got 5 of 10, the second none.
    expect((await stats(q)).limited).toEqual({ rate: 2, concurrency: 0 });
    // A long poll waits; the object wakes when the tokens come back (an hour on: the alarm's time).
    const poll = call("POST", qpath(q, "/lease"), { max: 10, waitMs: 10_000 });
    await waiting(q, 1);
    const alarm = await runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + HOUR - 60_000);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const served = await poll;
    expect(served.status).toBe(200);
    expect(served.body.tasks).toHaveLength(5);
    expect((await stats(q)).leased).toBe(10);
  });
});

describe("the rate limit and streaming consumers", () => {
  it("paces pushes: the limit's worth at once, the next when the tokens come back", async () => {
    const q = unique("lim");
    await configure(q, { rateLimit: { leases: 3, periodMs: HOUR } });
    await fill(q, 10);
    const c = await consumer(q, { prefetch: 100, visibilityMs: 43_200_000 });
    await c.until(() => c.pushed.length === 3, "3 pushed");
    await c.ack();
    expect(await leasedRows(q)).toBe(0);
    expect(c.pushed).toHaveLength(3);
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    await c.until(() => c.pushed.length === 6, "3 more pushed an hour on");
    expect((await stats(q)).limited?.rate).toBeGreaterThanOrEqual(1);
    c.close();
  });
});

describe("the concurrency limit", () => {
  it("caps the tasks leased at once; an ack makes room and a waiting long poll gets it", async () => {
    const q = unique("lim");
    await configure(q, { maxLeased: 3 });
    await fill(q, 10);
    const held = await lease(q, { max: 10 });
    expect(held).toHaveLength(3);
    expect(await lease(q, { max: 10 })).toHaveLength(0);
    const poll = call("POST", qpath(q, "/lease"), { max: 10, waitMs: 10_000 });
    await waiting(q, 1);
    const first = held[0] as (typeof held)[number];
    await call("POST", qpath(q, `/tasks/${first.id}/ack`), { leaseId: first.leaseId });
    expect((await poll).body.tasks).toHaveLength(1);
    expect(await leasedRows(q)).toBe(3);
    expect((await stats(q)).limited?.concurrency).toBeGreaterThanOrEqual(2);
  });

  it("paces a streaming consumer: it is pushed no more than the room, and more as tasks are acked", async () => {
    const q = unique("lim");
    await configure(q, { maxLeased: 4 });
    await fill(q, 10);
    const c = await consumer(q, { prefetch: 100 });
    await c.until(() => c.held.size === 4, "4 pushed");
    expect(await lease(q, { max: 10 })).toHaveLength(0);
    await c.ack([...c.held.keys()].slice(0, 2));
    await c.until(() => c.pushed.length === 6, "2 more pushed");
    expect(await leasedRows(q)).toBe(4);
    c.close();
  });
});

type Step =
  | { kind: "lease"; max: number }
  | { kind: "ackHttp"; count: number }
  | { kind: "open"; prefetch: number }
  | { kind: "ackSocket"; socket: number; count: number }
  | { kind: "close"; socket: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("lease" as const), max: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("ackHttp" as const), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant("open" as const), prefetch: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant("ackSocket" as const),
    socket: fc.nat(3),
    count: fc.integer({ min: 1, max: 5 }),
  }),
  fc.record({ kind: fc.constant("close" as const), socket: fc.nat(3) }),
);

describe("limits with HTTP and streaming consumers mixed (property)", () => {
  it("never more than maxLeased leased at once, never more than the rate's leases in its period", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 4, max: 30 }),
        fc.array(step, { minLength: 4, maxLength: 14 }),
        async (maxLeased, leases, steps) => {
          const q = unique("limprop");
          // An hour's period: the whole run is one window, so every lease counts against it.
          await configure(q, { maxLeased, rateLimit: { leases, periodMs: HOUR } });
          await fill(q, 60);
          const httpHeld: Array<{ id: string; leaseId: string }> = [];
          const sockets: Consumer[] = [];
          let httpLeased = 0;
          let closedPushed = 0;
          const settle = async () => {
            // Pushes go out after their transaction: read the rows, the truth of what is leased.
            const leased = await leasedRows(q);
            expect(leased).toBeLessThanOrEqual(maxLeased);
            const total = (await storedTasks(q)).filter((t) => t.attempt > 0).length;
            expect(total).toBeLessThanOrEqual(leases);
          };
          try {
            for (const s of steps) {
              if (s.kind === "lease") {
                const got = await lease(q, { max: s.max });
                httpLeased += got.length;
                httpHeld.push(...got);
              } else if (s.kind === "ackHttp") {
                for (const t of httpHeld.splice(0, s.count)) {
                  await call("POST", qpath(q, `/tasks/${t.id}/ack`), { leaseId: t.leaseId });
                }
              } else if (s.kind === "open") {
                sockets.push(await consumer(q, { prefetch: s.prefetch }));
              } else {
                const c = sockets[s.socket % Math.max(1, sockets.length)];
                if (c === undefined) continue;
                if (s.kind === "ackSocket" && c.held.size > 0)
                  await c.ack([...c.held.keys()].slice(0, s.count));
                if (s.kind === "close") {
                  closedPushed += c.pushed.length;
                  c.close();
                  await c.closed;
                  sockets.splice(sockets.indexOf(c), 1);
                }
              }
              await settle();
            }
            const pushed = sockets.reduce((n, c) => n + c.pushed.length, closedPushed);
            expect(httpLeased + pushed).toBeLessThanOrEqual(leases);
          } finally {
            for (const c of sockets) c.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});

describe("lease limits in the typed client", () => {
  it.each(CLIENT_TRANSPORTS)(
    "over %s: sets and reads the config; bad input is an invalid_request",
    async (_name, make) => {
      const client = await make();
      const q = unique("lim");
      expect(await client.setConfig(q, { maxLeased: 2 })).toEqual({ rateLimit: null, maxLeased: 2 });
      expect(await client.config(q)).toEqual({ rateLimit: null, maxLeased: 2 });
      await expect(client.setConfig(q, { maxLeased: 0 })).rejects.toMatchObject({ code: "invalid_request" });
    },
  );
});
