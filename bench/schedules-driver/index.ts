/**
 * The schedules benchmark's driver. `POST /run?sizes=100,1000,10000&due=10&rings=40` makes one
 * queue per size with that many schedules, of which `due` run every hour and the rest once a month
 * or once a year, then rings the queues' alarms `rings` times each, an hour of the queues' clock
 * apart and in turn (so that warm-up and the machine's load fall on every size alike); each ring
 * finds the same `due` schedules due. Each ring's cost (its round trip, and the rows SQLite read
 * and wrote, from the cursors) comes back in a {@link RunAnswer} per size: with the due schedules
 * read off an index, it stays the same whatever the size.
 */
import type { ObjectAlarm } from "../../durable-objects/lib/alarm.ts";
import { QueueObject } from "../../durable-objects/queue/object.ts";
import type { Env as SwitchyardEnv } from "../../shared/env.ts";
import { ScheduleRequest } from "../../shared/schemas/queue-schedule.ts";
import type { RingCost, RunAnswer } from "./answer.ts";

const HOUR = 3_600_000;

interface Env {
  QUEUES: DurableObjectNamespace<MeteredQueue>;
}

/** Counts the statements run through `sql` and keeps their cursors, to read their row counts later. */
function meter(sql: SqlStorage): { cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] } {
  const metered = { cursors: [] as SqlStorageCursor<Record<string, SqlStorageValue>>[] };
  const exec = sql.exec.bind(sql);
  Object.defineProperty(sql, "exec", {
    value: (query: string, ...bindings: unknown[]) => {
      const cursor = exec(query, ...bindings);
      metered.cursors.push(cursor);
      return cursor;
    },
  });
  return metered;
}

/** The queue object, metered, with an alarm that rings at the instant it is told. */
export class MeteredQueue extends QueueObject {
  private readonly metered: ReturnType<typeof meter>;

  constructor(ctx: DurableObjectState, env: SwitchyardEnv) {
    const metered = meter(ctx.storage.sql);
    super(ctx, env);
    this.metered = metered;
  }

  /** Creates the schedules: `total - due` cold ones (monthly intervals and yearly crons), then the `due` hourly ones. */
  async seed(total: number, due: number): Promise<void> {
    for (let i = 0; i < total; i++) {
      const hot = i >= total - due;
      const cadence = hot
        ? { everyMs: HOUR, missed: "once" }
        : i % 2 === 0
          ? { everyMs: 30 * 24 * HOUR }
          : { cron: `${i % 60} ${i % 24} 1 1 *`, timezone: "Europe/Berlin" };
      const input = ScheduleRequest.parse({ ...cadence, task: { payload: { schedule: i } } });
      const put = await this.putSchedule(`s-${String(i).padStart(5, "0")}`, input);
      if (!put.ok) throw new Error(`schedule ${i}: ${put.error.message}`);
    }
  }

  /** Rings the alarm as if at `at`, metering only the ring. */
  async ring(at: number): Promise<Omit<RingCost, "ms">> {
    // The alarm takes the instant it was set for as its time (see QueueObject.alarm).
    (this as unknown as { alarmTime: ObjectAlarm }).alarmTime.restore(at);
    this.metered.cursors = [];
    await this.alarm();
    const cursors = this.metered.cursors;
    const cost = {
      rowsRead: cursors.reduce((sum, c) => sum + c.rowsRead, 0),
      rowsWritten: cursors.reduce((sum, c) => sum + c.rowsWritten, 0),
      statements: cursors.length,
    };
    const tasks = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tasks").one().n;
    return { ...cost, tasks };
  }
}

function count(url: URL, key: string, fallback: number, max: number): number {
  const n = Number(url.searchParams.get(key) ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${key} must be an integer from 1 to ${max}`);
  return n;
}

async function run(env: Env, url: URL): Promise<RunAnswer[]> {
  const sizes = (url.searchParams.get("sizes") ?? "100,1000,10000").split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000)) {
    throw new Error("sizes must be integers from 1 to 100000, comma-separated");
  }
  const due = count(url, "due", 10, 1_000);
  const rings = count(url, "rings", 40, 1_000);
  // The runtime's clock moves only across I/O; every span timed here is one RPC call.
  const runs = [];
  for (const schedules of sizes) {
    const stub = env.QUEUES.getByName(`bench-${schedules}-${crypto.randomUUID()}`);
    const started = performance.now();
    await stub.seed(schedules, Math.min(due, schedules));
    const answer: RunAnswer = {
      schedules,
      due: Math.min(due, schedules),
      seedMs: performance.now() - started,
      rings: [],
    };
    runs.push({ stub, answer });
  }
  // The hourly schedules were made last, within a minute before now: each ring an hour later finds them due.
  const base = Date.now();
  for (let k = 1; k <= rings; k++) {
    for (const { stub, answer } of runs) {
      const before = performance.now();
      const cost = await stub.ring(base + k * HOUR);
      answer.rings.push({ ms: performance.now() - before, ...cost });
    }
  }
  return runs.map((r) => r.answer);
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    if (url.pathname !== "/run" || request.method !== "POST")
      return new Response("not found", { status: 404 });
    try {
      return Response.json(await run(env, url));
    } catch (err) {
      return new Response(err instanceof Error ? err.message : String(err), { status: 400 });
    }
  },
} satisfies ExportedHandler<Env>;
