import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../shared/errors.ts";
import { unique } from "../helpers.ts";
import {
  CLIENT_TRANSPORTS,
  clientOverHttp,
  clientOverHttpLeases,
  clientOverRpc,
  queueStub,
} from "./queue-helpers.ts";

describe.each(CLIENT_TRANSPORTS)("queue client over %s", (transport, makeClient) => {
  it("produces, consumes with concurrency and batches, acks results and nacks failures", async () => {
    const client = await makeClient();
    const q = unique("client");
    const ids = await client.enqueueBatch(
      q,
      Array.from({ length: 20 }, (_, i) => ({ payload: { n: i }, maxAttempts: 1 })),
    );
    const single = await client.enqueue(q, { payload: { n: 20 }, priority: "critical" });
    const stop = new AbortController();
    let seen = 0;
    let running = 0;
    let peak = 0;
    const summary = await client.consume(
      q,
      async (task) => {
        running++;
        peak = Math.max(peak, running);
        await Promise.resolve();
        running--;
        if (++seen === 21) stop.abort();
        const n = (task.payload as { n: number }).n;
        if (n % 5 === 0) throw new Error(`bad ${n}`);
        return { doubled: n * 2 };
      },
      { concurrency: 4, batch: 4, waitMs: 100, signal: stop.signal },
    );
    expect(summary).toEqual({ completed: 16, failed: 5, lost: 0 });
    expect(peak).toBeLessThanOrEqual(4);
    const stats = await client.stats(q);
    // The single task keeps the default 5 attempts: its failure is retried later, not dead.
    expect(stats).toMatchObject({ completed: 16, dead: 4, delayed: 1, leased: 0 });
    expect(await client.task(q, ids[3] as string)).toMatchObject({
      state: "completed",
      result: { doubled: 6 },
    });
    expect(await client.task(q, ids[5] as string)).toMatchObject({ state: "dead", lastError: "bad 5" });
    expect(await client.task(q, single)).toMatchObject({ state: "delayed", lastError: "bad 20", attempt: 1 });
    const page = await client.dead(q, { limit: 10 });
    expect(page.tasks).toHaveLength(4);
    expect(await client.redrive(q, [ids[5] as string])).toBe(1);
    expect(await client.purge(q, { state: "completed" })).toBe(16);
  });

  /** What a {@link consumeOne} handler is given: its queue, its lease's signal, and the consumer's stop. */
  interface OneTask {
    q: string;
    signal: AbortSignal;
    stop: () => void;
  }

  /** Enqueues one task and consumes it with `handle` under 1 s leases; `handle` stops the consumer. */
  async function consumeOne(payload: string, handle: (task: OneTask) => Promise<void>) {
    const client = await makeClient();
    const q = unique("client");
    const id = await client.enqueue(q, { payload });
    const stop = new AbortController();
    const summary = await client.consume(
      q,
      (_task, { signal }) => handle({ q, signal, stop: () => stop.abort() }),
      { visibilityMs: 1_000, waitMs: 100, signal: stop.signal },
    );
    return { client, q, id, summary };
  }

  it("extends the lease while a slow handler runs", async () => {
    const { client, q, id, summary } = await consumeOne("slow", async ({ stop }) => {
      // Outlives the 1 s lease more than once: only the extensions keep it.
      await scheduler.wait(1_500);
      stop();
    });
    expect(summary).toEqual({ completed: 1, failed: 0, lost: 0 });
    expect(await client.task(q, id)).toMatchObject({ state: "completed", attempt: 1 });
  });

  it("tells the handler when its lease is lost and does not ack", async () => {
    const { client, q, id, summary } = await consumeOne("lost", async ({ q, signal, stop }) => {
      stop();
      // The lease expires (the alarm recovers the task); the next extension is refused.
      await runDurableObjectAlarm(queueStub(q));
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    });
    expect(summary).toEqual({ completed: 0, failed: 0, lost: 1 });
    // Over HTTP the client streams: the recovered task was pushed again to its socket after the
    // stop, not started, and given back when the socket closed (that lease counts an attempt).
    const attempt = transport === "HTTP" ? 2 : 1;
    await expect.poll(() => client.task(q, id)).toMatchObject({ state: "ready", attempt });
  });

  it("stops on abort, leaving later tasks in the queue, and surfaces contract errors", async () => {
    const client = await makeClient();
    const q = unique("client");
    const stop = new AbortController();
    const done = client.consume(q, async () => undefined, { waitMs: 100, signal: stop.signal });
    stop.abort();
    expect(await done).toEqual({ completed: 0, failed: 0, lost: 0 });
    await client.enqueue(q, { payload: 1 });
    expect((await client.stats(q)).ready.normal).toBe(1);
    await expect(client.enqueue(q, { payload: 1, maxAttempts: 0 })).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(client.task(q, "999")).rejects.toBeInstanceOf(ApiError);
  });
});

describe("queue client: streaming and operator calls", () => {
  it("consumes over the socket when it can (pushed lease ids) and falls back to HTTP leases", async () => {
    const q = unique("client");
    const streaming = clientOverHttp();
    await streaming.enqueueBatch(q, [{ payload: 1 }, { payload: 2 }]);
    const stop = new AbortController();
    const leaseIds: string[] = [];
    const summary = await streaming.consume(
      q,
      async (task) => {
        leaseIds.push(task.leaseId);
        if (leaseIds.length === 2) stop.abort();
      },
      { concurrency: 2, signal: stop.signal },
    );
    expect(summary).toEqual({ completed: 2, failed: 0, lost: 0 });
    expect(leaseIds.every((id) => id.startsWith("ws:"))).toBe(true);

    // A transport that cannot open sockets: the same consume, over HTTP leases.
    const noSockets = clientOverHttpLeases();
    await noSockets.enqueue(q, { payload: 3 });
    const again = new AbortController();
    const httpIds: string[] = [];
    expect(
      await noSockets.consume(
        q,
        async (task) => {
          httpIds.push(task.leaseId);
          again.abort();
        },
        { waitMs: 100, signal: again.signal },
      ),
    ).toEqual({ completed: 1, failed: 0, lost: 0 });
    expect(httpIds[0]?.startsWith("ws:")).toBe(false);
  });

  it("counts a streamed task lost when its socket closes before the ack is answered", async () => {
    const client = clientOverHttp();
    const q = unique("client");
    await client.enqueue(q, { payload: 1 });
    const stop = new AbortController();
    const errors: unknown[] = [];
    const summary = await client.consume(
      q,
      async (task) => {
        expect(task.leaseId.startsWith("ws:")).toBe(true);
        // Deleting the queue closes its consumer sockets; the ack that follows has nowhere to go.
        await client.deleteQueue(q);
        stop.abort();
      },
      { signal: stop.signal, onError: (error) => errors.push(error) },
    );
    expect(summary).toEqual({ completed: 0, failed: 0, lost: 1 });
    expect(errors).toEqual([expect.objectContaining({ code: "lease_mismatch" })]);
  });

  it("pauses, resumes and deletes queues", async () => {
    const client = clientOverHttp();
    const q = unique("client");
    await client.enqueue(q, { payload: 1 });
    expect(await client.pause(q)).toBe(true);
    expect((await client.stats(q)).paused).toBe(true);
    expect(await client.resume(q)).toBe(false);
    await client.deleteQueue(q);
    expect((await client.stats(q)).totals.enqueued).toBe(0);
    const rpc = await clientOverRpc();
    expect(await rpc.pause(q)).toBe(true);
    expect(await rpc.resume(q)).toBe(false);
    await rpc.deleteQueue(q);
    await expect(rpc.pause("bad name!")).rejects.toMatchObject({ code: "invalid_request" });
  });
});
