/**
 * Crash test: `wrangler dev` (the node parent and its workerd) killed with SIGKILL in the middle of
 * queue, state, lock and bus traffic, then started again on the same `--persist-to` directory and
 * port. What a client was told must hold afterwards: every acknowledged task completes and none is
 * lost, every acknowledged write reads back, fencing tokens keep growing, every accepted event is
 * delivered (at least once). Requests in flight at the kill have unknown outcomes: either is allowed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { Published } from "../../../shared/schemas/bus.ts";
import { Grant } from "../../../shared/schemas/lock.ts";
import { Enqueued, Leased, QueueStats, TaskInfo } from "../../../shared/schemas/queue.ts";
import { PutResult, StateEntry } from "../../../shared/schemas/state.ts";
import { type Answer, bodyOf, errorCode, readAnswer } from "../answer.ts";
import { Receiver } from "../bus/receiver.ts";
import { freePort, TOKEN, until, wranglerDevCommand } from "../bus/worker.ts";

const ROUNDS = 2;
/** Traffic runs this long (after every kind has had an answer) before each kill. */
const TRAFFIC_MS = 2_500;
const run = `${process.pid}-${Date.now()}`;
const QUEUE = `crash-q-${run}`;
const NAMESPACE = `crash-ns-${run}`;
const LOCK = `crash-lock-${run}`;
const TOPIC = `crash-topic-${run}`;
const VISIBILITY_MS = 2_000;
const LOCK_TTL_MS = 3_000;

let stateDir = "";
let port = 0;
let child: ChildProcess | undefined;
const receiver = new Receiver();

/** Starts `wrangler dev` in its own process group (so one signal reaches workerd too) and waits for /health. */
async function startWorker(): Promise<ChildProcess> {
  const dev = await wranglerDevCommand(port, stateDir);
  // Its own process group, so that one SIGKILL reaches workerd too, not only wrangler's node.
  const proc = spawn(dev.command, dev.args, {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env: dev.env,
  });
  let stderr = "";
  proc.stderr?.on("data", (d) => {
    stderr += d;
  });
  await until(
    async () => {
      if (proc.exitCode !== null || proc.signalCode !== null)
        throw new Error(`wrangler dev exited: ${stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      return res?.status === 200 || undefined;
    },
    45_000,
    "wrangler dev to answer /health",
  );
  return proc;
}

/** Processes of group `pgid` that are still running (zombies waiting for a reaper do not count). */
async function liveInGroup(pgid: number): Promise<number[]> {
  const live: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Fields after the parenthesised command: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") live.push(Number(entry));
  }
  return live;
}

async function portFree(): Promise<boolean> {
  const server = createServer();
  server.listen(port, "127.0.0.1");
  // Not events.once: its "listening" promise rejects on the "error" a busy port emits.
  const free = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.once("listening", () => resolve(true));
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}

/** SIGKILL to the whole group, then waits until no process of it runs and the port is free. */
async function killWorker(): Promise<void> {
  const proc = child;
  child = undefined;
  if (!proc?.pid) return;
  process.kill(-proc.pid, "SIGKILL");
  const pgid = proc.pid;
  await until(
    async () => ((await liveInGroup(pgid)).length === 0 ? true : undefined),
    10_000,
    "no workerd left",
  );
  await until(async () => (await portFree()) || undefined, 10_000, "the port to be free");
}

class NetworkError extends Error {}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    text = await res.text();
  } catch (error) {
    if (!live && traffic) counts.inFlightFailures++;
    throw new NetworkError(String(error));
  }
  return readAnswer(res.status, text);
}

/** The writers' values are numbers. */
const NumberEntry = StateEntry.extend({ value: z.number() });

/** The state of task `id`. */
const taskState = async (id: string) =>
  bodyOf(TaskInfo, await call("GET", `/v1/queues/${QUEUE}/tasks/${id}`)).state;

// What the server acknowledged, across rounds.
const enqueued = new Set<string>();
const acked = new Set<string>();
const lostAcks: { id: string; leaseId: string }[] = [];
const stateAcked = new Map<string, { value: number; version: number }>();
const stateAttempted = new Map<string, number>();
/** Grants per round, with their owner. */
const grants: { owner: string; token: number }[][] = [];
const published = new Set<string>();
const counts = {
  /** Grants handed back to an owner that still held them (its release was cut off). */
  regranted: 0,
  writesAcked: 0,
  inFlightFailures: 0,
  ackConflicts: 0,
  lockHeld: 0,
  expiredBeforeRelease: 0,
  ackLandedBeforeKill: 0,
  ackRetriedOk: 0,
  ackRetriedConflict: 0,
};

/** Loops start requests while `live`; `traffic` stays set until the loops have ended after a kill. */
let live = false;
let traffic = false;

/** Runs `step` until the kill; a network error after the kill is an in-flight failure and ends the loop. */
async function loop(what: string, step: () => Promise<void>): Promise<void> {
  while (live) {
    try {
      await step();
    } catch (error) {
      if (error instanceof NetworkError && !live) return;
      throw new Error(`${what}: ${error}`);
    }
  }
}

function expectStatus(res: Answer, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

async function produce(p: number): Promise<void> {
  let n = 0;
  await loop(`producer ${p}`, async () => {
    const tasks = Array.from({ length: 5 }, () => ({ payload: { p, n: n++ }, maxAttempts: 100 }));
    const res = await call("POST", `/v1/queues/${QUEUE}/tasks`, { tasks });
    expectStatus(res, 201, "enqueue");
    for (const id of bodyOf(Enqueued, res).ids) enqueued.add(id);
  });
}

/** Acks one leased task; a lost answer is remembered for a retry after the restart. */
async function ack(id: string, leaseId: string): Promise<void> {
  try {
    const res = await call("POST", `/v1/queues/${QUEUE}/tasks/${id}/ack`, { leaseId, result: "done" });
    if (res.status === 200) acked.add(id);
    else if (res.status === 409 && errorCode(res) === "lease_mismatch") counts.ackConflicts++;
    else throw new Error(`ack answered ${res.status}: ${JSON.stringify(res.body)}`);
  } catch (error) {
    if (error instanceof NetworkError && !live) lostAcks.push({ id, leaseId });
    throw error;
  }
}

async function consume(c: number): Promise<void> {
  await loop(`consumer ${c}`, async () => {
    const res = await call("POST", `/v1/queues/${QUEUE}/lease`, {
      max: 10,
      visibilityMs: VISIBILITY_MS,
      waitMs: 200,
    });
    expectStatus(res, 200, "lease");
    const { tasks } = bodyOf(Leased, res);
    const results = await Promise.allSettled(tasks.map((t) => ack(t.id, t.leaseId)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  });
}

let writeValue = 0;
async function write(key: string): Promise<void> {
  await loop(`writer ${key}`, async () => {
    const value = ++writeValue;
    stateAttempted.set(key, value);
    const res = await call("PUT", `/v1/state/${NAMESPACE}/${key}`, { value });
    expectStatus(res, 200, "put");
    const before = stateAcked.get(key);
    const { version } = bodyOf(PutResult, res);
    if (before && version <= before.version) throw new Error(`version went back on ${key}`);
    stateAcked.set(key, { value, version });
    counts.writesAcked++;
  });
}

async function lock(owner: string, tokens: { owner: string; token: number }[]): Promise<void> {
  await loop(`lock ${owner}`, async () => {
    const asked = Date.now();
    const res = await call("POST", `/v1/locks/${LOCK}/acquire`, { owner, ttlMs: LOCK_TTL_MS, waitMs: 1_000 });
    if (res.status === 409 && errorCode(res) === "lock_held") {
      counts.lockHeld++;
      return;
    }
    expectStatus(res, 200, "acquire");
    const { token } = bodyOf(Grant, res);
    tokens.push({ owner, token });
    const released = await call("POST", `/v1/locks/${LOCK}/release`, { owner, token });
    // A grant may have expired first only when a stalled machine took its whole ttl.
    if (released.status === 409 && Date.now() - asked >= LOCK_TTL_MS) counts.expiredBeforeRelease++;
    else expectStatus(released, 200, "release");
  });
}

async function publish(p: number): Promise<void> {
  let n = 0;
  await loop(`publisher ${p}`, async () => {
    const events = Array.from({ length: 10 }, () => ({ type: "crash.event", data: { p, n: n++ } }));
    const res = await call("POST", `/v1/topics/${TOPIC}/events`, { events });
    expectStatus(res, 202, "publish");
    for (const id of bodyOf(Published, res).ids) published.add(id);
  });
}

/** Drives every kind of traffic, kills the Worker while it is in flight, and starts it again. */
async function trafficThenKill(): Promise<void> {
  const tokens: { owner: string; token: number }[] = [];
  grants.push(tokens);
  const sizes = () => [enqueued.size, acked.size, counts.writesAcked, tokens.length, published.size];
  const start = sizes();
  live = true;
  traffic = true;
  let ended = "";
  const loops = Promise.allSettled(
    [
      produce(1),
      produce(2),
      consume(1),
      consume(2),
      write("a"),
      write("b"),
      lock("owner-1", tokens),
      lock("owner-2", tokens),
      lock("owner-3", tokens),
      publish(1),
      publish(2),
    ].map((l) =>
      l.catch((error) => {
        ended ||= String(error);
        throw error;
      }),
    ),
  );
  // Every kind has been answered in this round, then traffic runs on for a while: no processing is
  // awaited here, the wait only sets when the kill lands.
  await until(
    async () => {
      if (ended) throw new Error(ended);
      return sizes().every((n, i) => n > (start[i] ?? 0)) ? true : undefined;
    },
    20_000,
    "an answer of every kind",
  );
  await new Promise((resolve) => setTimeout(resolve, TRAFFIC_MS));
  live = false;
  await killWorker();
  const settled = await loops;
  traffic = false;
  const errors = settled.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  expect(errors).toEqual([]);
  child = await startWorker();
  await retryLostAcks();
}

/** An ack whose answer was lost, retried: ok if it had landed (or its lease still lives), else lease_mismatch. */
async function retryLostAcks(): Promise<void> {
  for (const { id, leaseId } of lostAcks.splice(0)) {
    const landed = (await taskState(id)) === "completed";
    if (landed) counts.ackLandedBeforeKill++;
    const res = await call("POST", `/v1/queues/${QUEUE}/tasks/${id}/ack`, { leaseId, result: "done" });
    if (res.status === 200) {
      counts.ackRetriedOk++;
      acked.add(id);
      continue;
    }
    // The first ack landed (answer lost): the retry must say so, not refuse.
    expect(landed, `retried ack of completed ${id}: ${JSON.stringify(res.body)}`).toBe(false);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(errorCode(res)).toBe("lease_mismatch");
    counts.ackRetriedConflict++;
  }
}

/** Leases and acks until every task ever enqueued with a 201 has completed. */
async function drain(): Promise<number> {
  let consumedAfter = 0;
  await until(
    async () => {
      const res = await call("POST", `/v1/queues/${QUEUE}/lease`, {
        max: 100,
        visibilityMs: 10_000,
        waitMs: 200,
      });
      expect(res.status).toBe(200);
      for (const t of bodyOf(Leased, res).tasks) {
        const done = await call("POST", `/v1/queues/${QUEUE}/tasks/${t.id}/ack`, { leaseId: t.leaseId });
        expect(done.status, JSON.stringify(done.body)).toBe(200);
        acked.add(t.id);
        consumedAfter++;
      }
      if (![...enqueued].every((id) => acked.has(id))) return undefined;
      // Tasks whose enqueue answer was lost may exist too: consumed as well, so nothing is left.
      const stats = bodyOf(QueueStats, await call("GET", `/v1/queues/${QUEUE}/stats`));
      const left = Object.values(stats.ready).reduce((a, b) => a + b, 0);
      return left + stats.leased + stats.delayed === 0 ? true : undefined;
    },
    25_000,
    "every enqueued task to be consumed",
  );
  return consumedAfter;
}

/** GETs in groups so a few hundred reads do not open a few hundred sockets at once. */
async function inGroups<T, R>(items: T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 20) out.push(...(await Promise.all(items.slice(i, i + 20).map(f))));
  return out;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "switchyard-crash-"));
  port = await freePort();
  await receiver.start();
  child = await startWorker();
});

afterAll(async () => {
  live = false;
  await killWorker().catch(() => undefined);
  await receiver.stop();
  await rm(stateDir, { recursive: true, force: true });
});

it("keeps every acknowledged task, write, grant and event through SIGKILLs of wrangler dev", {
  timeout: 120_000,
}, async () => {
  const sub = await call("POST", `/v1/topics/${TOPIC}/subscriptions`, {
    url: receiver.url,
    maxAttempts: 50,
    retry: { initialDelayMs: 50, maxDelayMs: 1_000 },
  });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);

  for (let round = 0; round < ROUNDS; round++) await trafficThenKill();
  const ackedBeforeDrain = acked.size;

  // Every ack answered 200 (before a kill, or on a retry after one) reads back as completed.
  const states = await inGroups([...acked], taskState);
  expect(states.filter((s) => s !== "completed")).toEqual([]);

  // None lost: every task enqueued with a 201 is leased and acked after the restart, and completes.
  const consumedAfter = await drain();
  const final = await inGroups([...enqueued], taskState);
  expect(final.filter((s) => s !== "completed")).toEqual([]);
  expect((await call("GET", `/v1/queues/${QUEUE}/stats`)).body).toMatchObject({
    dead: 0,
    leased: 0,
    delayed: 0,
  });

  // Every acknowledged write reads back at its version or later, with its value or a later one.
  for (const [key, { value, version }] of stateAcked) {
    const res = await call("GET", `/v1/state/${NAMESPACE}/${key}`);
    expect(res.status).toBe(200);
    const entry = bodyOf(NumberEntry, res);
    expect(entry.version).toBeGreaterThanOrEqual(version);
    expect(entry.value).toBeGreaterThanOrEqual(value);
    expect(entry.value).toBeLessThanOrEqual(stateAttempted.get(key) ?? value);
    if (entry.value === value) expect(entry.version).toBe(version);
  }

  // Fencing tokens: one token never goes to two owners, and every new grant after a restart is
  // above every grant before it. The one repeat allowed is the contract's re-entrant acquire: an
  // owner whose release was cut off by the kill still holds its grant, and acquiring again gives
  // it back with the same token.
  const ownerOf = new Map<number, string>();
  for (const { owner, token } of grants.flat()) {
    expect(ownerOf.get(token) ?? owner, `token ${token}`).toBe(owner);
    ownerOf.set(token, owner);
  }
  for (let round = 1; round < grants.length; round++) {
    const earlier = grants.slice(0, round).flat();
    const before = Math.max(...earlier.map((g) => g.token));
    const fresh = (grants[round] ?? []).filter(
      (g) => !earlier.some((e) => e.owner === g.owner && e.token === g.token),
    );
    for (const g of fresh) expect(g.token).toBeGreaterThan(before);
    counts.regranted += (grants[round] ?? []).length - fresh.length;
  }
  const all = grants.flat().map((g) => g.token);
  const next = await call("POST", `/v1/locks/${LOCK}/acquire`, {
    owner: "after",
    ttlMs: 5_000,
    waitMs: 15_000,
  });
  expect(next.status, JSON.stringify(next.body)).toBe(200);
  expect(bodyOf(Grant, next).token).toBeGreaterThan(Math.max(...all));

  // Every event answered 202 reaches the receiver at least once, with nobody publishing again.
  const delivered = await until(
    async () => {
      const ids = new Set(receiver.delivered.map((a) => a.event.id));
      return [...published].every((id) => ids.has(id)) ? ids : undefined;
    },
    25_000,
    "every accepted event at the receiver",
  );
  const duplicates = receiver.delivered.length - delivered.size;

  console.log(
    JSON.stringify({
      rounds: ROUNDS,
      tasksEnqueued: enqueued.size,
      tasksAckedBeforeDrain: ackedBeforeDrain,
      tasksConsumedAfterRestart: consumedAfter,
      lastVersions: Object.fromEntries(stateAcked),
      grants: grants.map((g) => g.length),
      eventsAccepted: published.size,
      eventsDelivered: receiver.delivered.length,
      duplicates,
      ...counts,
    }),
  );
});
