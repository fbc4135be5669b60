/**
 * Schedules through the Worker's routes, the queue object's one alarm and its restarts. The
 * object's time during an alarm is the instant the alarm was set for (`runDurableObjectAlarm` runs
 * it ahead of the wall clock), so each ring below moves the object's clock to the next run; an
 * alarm that rings hours late, after a restart, is what downtime looks like to the object.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../shared/errors.ts";
import { call, unique } from "../helpers.ts";
import { CLIENT_TRANSPORTS, enqueue, qpath, queueStub } from "./queue-helpers.ts";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
/** `/v1/queues/{q}/schedules/{name}{rest}`, typed as {@link qpath} is. */
function spath(q: string, name: string): `/v1/queues/${string}/schedules/${string}`;
function spath<const Rest extends string>(
  q: string,
  name: string,
  rest: Rest,
): `/v1/queues/${string}/schedules/${string}${Rest}`;
function spath(q: string, name: string, rest = "") {
  return qpath(q, `/schedules/${name}${rest}`);
}

async function put(q: string, name: string, body: unknown, status = 201) {
  const res = await call("PUT", spath(q, name), body);
  expect(res.status, res.text).toBe(status);
  return res.body;
}

const byTimeThenKey = (a: [string, number], b: [string, number]) => a[1] - b[1] || a[0].localeCompare(b[0]);

/** The tasks the schedules enqueued (all states), as `[dedupKey, enqueuedAt]`, oldest first. */
async function runs(q: string): Promise<Array<[string, number]>> {
  const out: Array<[string, number]> = [];
  for (const state of ["ready", "leased", "completed"]) {
    const res = await call("GET", qpath(q, `/tasks?state=${state}&limit=1000`));
    expect(res.status, res.text).toBe(200);
    for (const t of res.body.tasks)
      if (t.dedupKey?.startsWith("schedule:")) out.push([t.dedupKey, t.enqueuedAt]);
  }
  return out.sort(byTimeThenKey);
}

/** The alarm's instant, as stored. */
const alarmOf = (q: string) => runInDurableObject(queueStub(q), (_i, state) => state.storage.getAlarm());

/**
 * Restarts the object with its alarm ringing at `instant`: late (downtime), or again at a time
 * it already rang for (alarms are at least once). Returns whether an alarm ran.
 */
async function restartAndRingAt(q: string, instant: number): Promise<boolean> {
  await runInDurableObject(queueStub(q), async (_i, state) => {
    state.storage.sql.exec("UPDATE queue_meta SET alarm_at = ? WHERE id = 1", instant);
    await state.storage.setAlarm(instant);
  });
  await evictDurableObject(queueStub(q));
  return runDurableObjectAlarm(queueStub(q));
}

describe("schedule routes", () => {
  it("creates (201), replaces (200), reads with the next run times, lists, pauses, resumes and deletes", async () => {
    const q = unique("sched");
    const created = await put(q, "weekday-9am", {
      cron: "0 9 * * 1-5",
      timezone: "Europe/Berlin",
      task: { payload: { report: "daily" }, priority: "high" },
    });
    expect(created).toMatchObject({
      name: "weekday-9am",
      cron: "0 9 * * 1-5",
      timezone: "Europe/Berlin",
      task: { payload: { report: "daily" }, priority: "high", maxAttempts: 5 },
      missed: "skip",
      paused: false,
      lastRunAt: null,
      lastTaskId: null,
      runs: 0,
    });
    expect(created.everyMs).toBeUndefined();
    expect(created.nextRuns).toHaveLength(5);
    expect(created.nextRuns?.[0]).toBe(created.nextRunAt);
    // Five, as just checked.
    for (const t of created.nextRuns ?? []) {
      const local = new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Berlin",
        hour: "2-digit",
        minute: "2-digit",
        weekday: "short",
      }).format(t);
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    }

    const replaced = await put(
      q,
      "weekday-9am",
      { everyMs: 60_000, task: { payload: 1 }, missed: "once" },
      200,
    );
    expect(replaced).toMatchObject({ everyMs: 60_000, missed: "once", createdAt: created.createdAt });
    expect(replaced.cron).toBeUndefined();
    expect(replaced.timezone).toBeUndefined();
    expect(replaced.nextRuns).toEqual([0, 1, 2, 3, 4].map((k) => replaced.updatedAt + (k + 1) * 60_000));

    await put(q, "a-second", { everyMs: 1000, task: { payload: 2 } });
    const list = await call("GET", qpath(q, "/schedules?limit=1"));
    expect(list.status).toBe(200);
    expect(list.body.schedules.map((s) => s.name)).toEqual(["a-second"]);
    expect(list.body.schedules[0]?.nextRuns).toBeUndefined();
    const rest = await call("GET", qpath(q, `/schedules?cursor=${list.body.cursor}`));
    expect(rest.body).toMatchObject({ schedules: [{ name: "weekday-9am" }], cursor: null });

    const paused = await call("POST", spath(q, "weekday-9am", "/pause"));
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, nextRunAt: null, nextRuns: [] });
    // Replacing keeps the operator's pause.
    expect(await put(q, "weekday-9am", { everyMs: 5_000, task: { payload: 3 } }, 200)).toMatchObject({
      paused: true,
      nextRunAt: null,
    });
    const resumed = await call("POST", spath(q, "weekday-9am", "/resume"), {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.paused).toBe(false);
    expect(resumed.body.nextRunAt).toBeGreaterThan(resumed.body.updatedAt);

    expect((await call("DELETE", spath(q, "weekday-9am"))).body).toEqual({ deleted: true });
    for (const [method, rest] of [
      ["GET", ""],
      ["DELETE", ""],
      ["POST", "/pause"],
      ["POST", "/resume"],
    ] as const) {
      const res = await call(method, spath(q, "weekday-9am", rest));
      expect(res.status, `${method} ${rest}`).toBe(404);
      expect(res.error).toMatchObject({ code: "not_found", details: { name: "weekday-9am" } });
    }
  });

  it("refuses bad definitions with 400 naming the field", async () => {
    const q = unique("sched");
    const task = { payload: null };
    const cases: Array<[unknown, string]> = [
      [{ cron: "61 * * * *", task }, "cron"],
      [{ cron: "every day", task }, "cron"],
      [{ cron: "2030-01-23T00:00:00", task }, "cron"],
      [{ cron: "0 0 30 2 *", task }, "cron"],
      [{ cron: "0 9 * * *", timezone: "Mars/Olympus_Mons", task }, "timezone"],
      [{ cron: "0 9 * * *", everyMs: 60_000, task }, "everyMs"],
      [{ task }, "cron"],
      [{ everyMs: 60_000, timezone: "UTC", task }, "timezone"],
      [{ everyMs: 999, task }, "everyMs"],
      [{ everyMs: 60_000 }, "task"],
      [{ everyMs: 60_000, task, missed: "all" }, "missed"],
      [{ everyMs: 60_000, task, every: 5 }, "every"],
      [{ everyMs: 60_000, task: { payload: 1, dedupKey: "x" } }, "task.dedupKey"],
      [{ everyMs: 60_000, task: { payload: 1, delayMs: 5 } }, "task.delayMs"],
    ];
    for (const [body, field] of cases) {
      const res = await call("PUT", spath(q, "s"), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.error, JSON.stringify(body)).toMatchObject({
        code: "invalid_request",
        details: { field },
      });
    }
    const badName = await call("PUT", spath(q, "-bad"), { everyMs: 60_000, task });
    expect(badName.status).toBe(400);
    expect(badName.error?.details?.field).toBe("name");
    const big = await call("PUT", spath(q, "s"), { everyMs: 60_000, task: { payload: "x".repeat(300_000) } });
    expect(big.status).toBe(413);
    expect(big.error?.details?.field).toBe("task.payload");
    expect((await call("GET", spath(q, "s"))).status).toBe(404);
  });

  it("is declared in the OpenAPI document with its operationIds and actions", async () => {
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
    const one = doc.paths["/v1/queues/{queue}/schedules/{name}"];
    expect(one?.put).toMatchObject({ operationId: "createSchedule", "x-switchyard-access": "queues:admin" });
    expect(one?.get).toMatchObject({ operationId: "getSchedule", "x-switchyard-access": "queues:read" });
    expect(one?.delete).toMatchObject({
      operationId: "deleteSchedule",
      "x-switchyard-access": "queues:admin",
    });
    expect(doc.paths["/v1/queues/{queue}/schedules"]?.get).toMatchObject({
      operationId: "listSchedules",
      "x-switchyard-access": "queues:read",
    });
    expect(doc.paths["/v1/queues/{queue}/schedules/{name}/pause"]?.post?.operationId).toBe("pauseSchedule");
    expect(doc.paths["/v1/queues/{queue}/schedules/{name}/resume"]?.post?.operationId).toBe("resumeSchedule");
  });
});

describe("schedule runs", () => {
  it("run at their instants across the spring-forward change in Europe/Berlin, as croner documents", async () => {
    const q = unique("sched");
    // 2027-03-28 02:00 CET becomes 03:00 CEST. A fixed-time job at 02:30 runs at 03:00 that day.
    await put(q, "two-thirty", {
      cron: "30 2 27-29 3 *",
      timezone: "Europe/Berlin",
      task: { payload: "fixed" },
    });
    // An hourly job skips the hour that does not exist.
    await put(q, "hourly", { cron: "0 * 28 3 *", timezone: "Europe/Berlin", task: { payload: "hourly" } });
    const fixed = ["2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"].map(at);
    const hourly = Array.from({ length: 23 }, (_, k) => at("2027-03-27T23:00:00Z") + k * HOUR);
    const expected = [
      ...fixed.map((t) => [`schedule:two-thirty:${t}`, t] as [string, number]),
      ...hourly.map((t) => [`schedule:hourly:${t}`, t] as [string, number]),
    ].sort(byTimeThenKey);
    const got = (await call("GET", spath(q, "two-thirty"))).body;
    expect(got.nextRuns?.slice(0, 3)).toEqual(fixed);
    // One ring per instant (the hourly job's 24 local hours minus the missing one; at 03:00 CEST
    // both jobs run in the same ring).
    for (const t of new Set(expected.map(([, t]) => t))) {
      expect(await alarmOf(q)).toBe(t);
      expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    }
    expect(await runs(q)).toEqual(expected);
    const after = (await call("GET", spath(q, "two-thirty"))).body;
    expect(after).toMatchObject({ runs: 3, lastRunAt: fixed[2] });
    expect(after.nextRunAt).toBe(at("2028-03-27T00:30:00Z"));
  }, 60_000);

  it("an interval schedule enqueues its task every interval, keyed by the run's instant", async () => {
    const q = unique("sched");
    const s = await put(q, "tick", {
      everyMs: 1000,
      task: { payload: { n: 1 }, priority: "critical", maxAttempts: 2 },
    });
    for (let k = 1; k <= 3; k++) expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const instants = [1, 2, 3].map((k) => s.createdAt + k * 1000);
    expect(await runs(q)).toEqual(instants.map((t) => [`schedule:tick:${t}`, t]));
    const ready = (await call("GET", qpath(q, "/tasks?state=ready"))).body.tasks;
    expect(ready[0]).toMatchObject({ payload: { n: 1 }, priority: "critical", maxAttempts: 2 });
    const info = (await call("GET", spath(q, "tick"))).body;
    expect(info).toMatchObject({ runs: 3, lastRunAt: instants[2], lastTaskId: ready[2]?.id });
  });

  it("a paused schedule does not run; resumed, it runs from now on; deleting the queue deletes it", async () => {
    const q = unique("sched");
    await put(q, "tick", { everyMs: 1000, task: { payload: 1 } });
    await call("POST", spath(q, "tick", "/pause"));
    await runDurableObjectAlarm(queueStub(q));
    expect(await runs(q)).toEqual([]);
    await call("POST", spath(q, "tick", "/resume"));
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await runs(q)).toHaveLength(1);
    expect((await call("DELETE", qpath(q))).status).toBe(200);
    expect((await call("GET", spath(q, "tick"))).status).toBe(404);
    expect((await call("GET", qpath(q, "/schedules"))).body).toEqual({ schedules: [], cursor: null });
  });

  it("never enqueues a run twice: the alarm rung again for the same instant, after a restart, finds nothing due", async () => {
    const q = unique("sched");
    await put(q, "hourly", { everyMs: HOUR, task: { payload: 1 } });
    const first = (await alarmOf(q)) as number;
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    expect(await runs(q)).toEqual([[`schedule:hourly:${first}`, first]]);
    expect(await restartAndRingAt(q, first)).toBe(true);
    expect(await restartAndRingAt(q, first + 30_000)).toBe(true);
    expect(await runs(q)).toHaveLength(1);
    expect((await call("GET", spath(q, "hourly"))).body).toMatchObject({ runs: 1, nextRunAt: first + HOUR });
  });

  it("the run's dedup key holds too: a live task of that run is not enqueued again", async () => {
    const q = unique("sched");
    const s = await put(q, "hourly", { everyMs: HOUR, task: { payload: 1 } });
    const due = s.nextRunAt as number;
    // A producer (or an earlier run) already holds the key of the next run.
    const [id] = await enqueue(q, { payload: "mine", dedupKey: `schedule:hourly:${due}` });
    expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
    const ready = (await call("GET", qpath(q, "/tasks?state=ready"))).body.tasks;
    expect(ready.map((t: { id: string }) => t.id)).toEqual([id]);
    expect((await call("GET", spath(q, "hourly"))).body).toMatchObject({ lastTaskId: id, lastRunAt: due });
  });

  it.each([
    ["skip", 0],
    ["once", 1],
  ] as const)(
    "after downtime and a restart, missed runs with %s make %i run, then it goes on",
    async (missed, made) => {
      const q = unique("sched");
      const s = await put(q, "hourly", { everyMs: HOUR, task: { payload: 1 }, missed });
      const first = s.nextRunAt as number;
      // Down for 5.5 hours past the first run: the runs at +0 h … +5 h were missed.
      const back = first + 5.5 * HOUR;
      expect(await restartAndRingAt(q, back)).toBe(true);
      const expected: Array<[string, number]> = made ? [[`schedule:hourly:${first + 5 * HOUR}`, back]] : [];
      expect(await runs(q)).toEqual(expected);
      const info = (await call("GET", spath(q, "hourly"))).body;
      expect(info.nextRunAt).toBe(first + 6 * HOUR);
      expect(info.runs).toBe(made);
      // Then on time again, no burst.
      expect(await alarmOf(q)).toBe(first + 6 * HOUR);
      expect(await runDurableObjectAlarm(queueStub(q))).toBe(true);
      expect((await runs(q)).length).toBe(made + 1);
    },
  );
});

describe("schedules in the typed client", () => {
  it.each(CLIENT_TRANSPORTS)("over %s: put, get, list, pause, resume, delete", async (_name, make) => {
    const client = await make();
    const q = unique("sched");
    const s = await client.putSchedule(q, "nightly", { cron: "@daily", task: { payload: { x: 1 } } });
    expect(s).toMatchObject({
      name: "nightly",
      cron: "@daily",
      timezone: "UTC",
      task: { payload: { x: 1 } },
    });
    expect((await client.schedule(q, "nightly")).nextRuns).toHaveLength(5);
    expect((await client.schedules(q)).schedules.map((x) => x.name)).toEqual(["nightly"]);
    expect((await client.pauseSchedule(q, "nightly")).paused).toBe(true);
    expect((await client.resumeSchedule(q, "nightly")).paused).toBe(false);
    await client.deleteSchedule(q, "nightly");
    await expect(client.schedule(q, "nightly")).rejects.toBeInstanceOf(ApiError);
    await expect(client.putSchedule(q, "bad", { cron: "nope", task: { payload: 1 } })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });
});
