/**
 * The cluster end to end against real Postgres: a primary (pg-1) and streaming replicas (pg-2, pg-3).
 * The tests run in order and change the cluster: a switchover to pg-2 that pg-2 refuses (nothing
 * changes), one it accepts (pg-3 follows it), pg-1 rebuilt as its replica, then pg-2 crashed and
 * failed over automatically to pg-1 (pg-3 follows again), pg-2 rebuilt, pg-1 crashed while pg-3 is
 * down and failed over to pg-2 (pg-3 follows once it is back), pg-1 rebuilt and cut off from pg-2,
 * pg-2 crashed while pg-3 (ahead of pg-1) is down and failed over to pg-1 (pg-3 cannot follow and
 * needs a rebuild), then everything down.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../shared/db/ha.ts";
import { createDb } from "../../workers/db/client.ts";
import { call } from "../workers/helpers.ts";
import {
  CHECK_INTERVAL_MS,
  control,
  FAILURE_THRESHOLD,
  onNode,
  onReplica,
  portOf,
  replicaCaughtUp,
  runChecks,
  streamsFrom,
  until,
} from "./helpers.ts";

type Row = { id: number; note: string };

const status = async () => {
  const res = await call("GET", "/v1/db/status");
  expect(res.status).toBe(200);
  return res.body;
};
const nodeOf = (body: { nodes: Array<{ name: string }> }, name: string) =>
  body.nodes.find((n) => n.name === name) as Record<string, unknown>;

/** Runs `fn` with a fresh router and closes it. */
async function withDb<T>(fn: (db: Db) => Promise<T>, afterLsn?: string): Promise<T> {
  const db = createDb(env, afterLsn ? { afterLsn } : {});
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Rebuilds `node` as a replica of `primary` and waits until the checks see it streaming. */
async function rejoin(node: "pg-1" | "pg-2", primary: "pg-1" | "pg-2") {
  await control(node, "rejoin", primary);
  await until(`${node} to stream from ${primary}`, async () => {
    await runChecks();
    return nodeOf(await status(), node).streaming === true;
  });
}

const insert = (db: Db, note: string) =>
  db.write(async (sql) => {
    await sql`insert into items (note) values (${note})`;
    return onReplica(sql);
  });

// Both replicas hold replay back, so that no read can find one that has caught up.
const replicas = ["pg-2", "pg-3"] as const;
const pauseReplay = (nodes: readonly ("pg-2" | "pg-3")[] = replicas) =>
  Promise.all(nodes.map((n) => onNode(n, (sql) => sql`select pg_wal_replay_pause()`)));
const resumeReplay = (nodes: readonly ("pg-2" | "pg-3")[] = replicas) =>
  Promise.all(nodes.map((n) => onNode(n, (sql) => sql`select pg_wal_replay_resume()`)));

describe("Postgres HA against a real primary and replica", () => {
  beforeAll(async () => {
    await withDb((db) =>
      db.write((sql) => sql`create table items (id serial primary key, note text not null)`),
    );
    await replicaCaughtUp("pg-1", "pg-2");
    await replicaCaughtUp("pg-1", "pg-3");
    await runChecks();
  });

  it("reports the primary, a streaming replica with measured lag, and the backup check", async () => {
    const body = await status();
    expect(body.primary).toBe("pg-1");
    expect(nodeOf(body, "pg-1")).toMatchObject({ role: "primary", healthy: true, stale: false });
    expect(nodeOf(body, "pg-2")).toMatchObject({
      role: "replica",
      healthy: true,
      streaming: true,
      lagBytes: 0,
    });
    expect(body.backup).toMatchObject({ archiving: true, healthy: true, failuresSinceLastArchive: 0 });

    // Hold replay back on the replica: it still receives WAL, so it lags in bytes and in time.
    await pauseReplay();
    try {
      await withDb((db) =>
        db.write((sql) => sql`insert into items (note) select 'bulk' from generate_series(1, 500)`),
      );
      await until("the replica to receive the bulk insert", async () => {
        await runChecks();
        const lagging = nodeOf(await status(), "pg-2");
        return (lagging.lagBytes as number) > 0 && (lagging.lagMs as number) > 0;
      });

      const counts = await withDb(async (db) => {
        const count = (sql: Parameters<Parameters<Db["read"]>[0]>[0]) =>
          sql<
            { n: number; replica: boolean }[]
          >`select count(*)::int as n, pg_is_in_recovery() as replica from items`;
        const [bounded] = await db.read(count, { maxLagMs: 0 });
        const [unbounded] = await db.read(count);
        return { bounded, unbounded };
      });
      // A read bounded tighter than the lag goes to the primary and sees the rows; an unbounded one
      // goes to the replica, which has not replayed them yet.
      expect(counts.bounded).toEqual({ n: 500, replica: false });
      expect(counts.unbounded).toEqual({ n: 0, replica: true });
    } finally {
      await resumeReplay();
    }
    await replicaCaughtUp("pg-1", "pg-2");
    await until("the lag to clear", async () => {
      await runChecks();
      const caughtUp = nodeOf(await status(), "pg-2");
      return caughtUp.lagMs === 0 && caughtUp.lagBytes === 0;
    });
  });

  it("sends writes to the primary and reads to the nearest replica", async () => {
    await withDb(async (db) => {
      expect(await insert(db, "routed")).toBe(false);
      expect(db.lastWriteLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    });
    await replicaCaughtUp("pg-1", "pg-2");
    await withDb(async (db) => {
      expect(await db.read(onReplica, { region: "enam" })).toBe(true);
      expect(await db.read(onReplica, { region: ["weur", "enam"], maxLagMs: 60_000 })).toBe(true);
    });
  });

  it("reads its own writes: a replica serves them only once it has replayed them", async () => {
    const find = (sql: Parameters<Parameters<Db["read"]>[0]>[0]) =>
      sql<(Row & { replica: boolean })[]>`
        select id, note, pg_is_in_recovery() as replica from items where note = 'mine'`;
    await pauseReplay();
    let lsn: string | undefined;
    try {
      await withDb(async (db) => {
        await insert(db, "mine");
        lsn = db.lastWriteLsn;
        const rows = await db.read(find);
        expect(rows).toHaveLength(1);
        expect(rows[0]?.replica).toBe(false);
      });
      // Across requests: the position travels as afterLsn. Without it the paused replica answers
      // and does not have the row.
      await withDb(async (db) => expect((await db.read(find))[0]?.replica).toBe(false), lsn);
      await withDb(async (db) => expect(await db.read(find)).toEqual([]));
    } finally {
      await resumeReplay();
    }
    await replicaCaughtUp("pg-1", "pg-2");
    await withDb(async (db) => {
      const rows = await db.read(find);
      expect(rows).toHaveLength(1);
      expect(rows[0]?.replica).toBe(true);
    }, lsn);
  });

  it("creates and lists restore points; refuses duplicates and bad names", async () => {
    const created = await call("POST", "/v1/db/restore-points", { name: "before-migration-1" });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: "before-migration-1",
      lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/),
      createdAt: expect.any(Number),
      node: "pg-1",
    });
    const listed = await call("GET", "/v1/db/restore-points");
    expect(listed.status).toBe(200);
    expect(listed.body.restorePoints).toContainEqual(created.body);
    const again = await call("POST", "/v1/db/restore-points", { name: "before-migration-1" });
    expect(again.status).toBe(409);
    expect(again.error?.code).toBe("conflict");
    const bad = await call("POST", "/v1/db/restore-points", { name: "x".repeat(64) });
    expect(bad.status).toBe(400);
    expect(bad.error?.details?.field).toBe("name");
  });

  it("creates one restore point for concurrent requests with the same name; the others get 409", async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => call("POST", "/v1/db/restore-points", { name: "raced" })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409]);
    const listed = await call("GET", "/v1/db/restore-points");
    expect(listed.body.restorePoints.filter((p: { name: string }) => p.name === "raced")).toHaveLength(1);
  });

  it("validates switchover requests", async () => {
    const noReason = await call("POST", "/v1/db/failover", {});
    expect(noReason.status).toBe(400);
    expect(noReason.error?.details?.field).toBe("reason");
    const unknown = await call("POST", "/v1/db/failover", { target: "pg-9", reason: "test" });
    expect(unknown.status).toBe(404);
    const toPrimary = await call("POST", "/v1/db/failover", { target: "pg-1", reason: "test" });
    expect(toPrimary.status).toBe(409);
    expect((await status()).primary).toBe("pg-1");
  });

  it("keeps the primary when the target refuses to promote: 503, nothing changed or repointed, the status says why", async () => {
    const primaryConninfo = (node: "pg-2" | "pg-3") =>
      onNode(
        node,
        async (sql) => (await sql<{ v: string }[]>`select current_setting('primary_conninfo') as v`)[0]?.v,
      );
    const pg3Before = await primaryConninfo("pg-3");
    // pg-2 cannot write its promote signal file: pg_promote() fails with SQLSTATE 42501.
    await control("pg-2", "refuse-promotion");
    let res: Awaited<ReturnType<typeof call>>;
    try {
      res = await call("POST", "/v1/db/failover", { target: "pg-2", reason: "maintenance of pg-1" });
    } finally {
      await control("pg-2", "allow-promotion");
    }
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: {
        code: "unavailable",
        message: "promoting pg-2 failed: refused (server error 42501); pg-1 is still the primary",
        details: { node: "pg-2" },
      },
    });

    // The old primary was fenced for the drain and has its writes back: routed, and directly.
    await withDb(async (db) => expect(await insert(db, "after-refusal")).toBe(false));
    await onNode("pg-1", (sql) => sql`insert into items (note) values ('direct-after-refusal')`);
    // pg-2 is still a replica of pg-1 and gets its writes; pg-3 was not repointed.
    expect(await onNode("pg-2", onReplica)).toBe(true);
    await replicaCaughtUp("pg-1", "pg-2");
    await replicaCaughtUp("pg-1", "pg-3");
    expect(await streamsFrom("pg-2")).toBe(portOf("pg-1"));
    expect(await streamsFrom("pg-3")).toBe(portOf("pg-1"));
    expect(await primaryConninfo("pg-3")).toBe(pg3Before);

    await runChecks();
    const body = await status();
    expect(body).toMatchObject({
      primary: "pg-1",
      epoch: 0,
      failedPromotion: {
        from: "pg-1",
        to: "pg-2",
        at: expect.any(Number),
        reason: "maintenance of pg-1",
        automatic: false,
        error: "refused (server error 42501)",
      },
    });
    expect(nodeOf(body, "pg-1")).toMatchObject({ role: "primary", healthy: true, fenced: false });
    for (const replica of replicas)
      expect(nodeOf(body, replica)).toMatchObject({
        role: "replica",
        healthy: true,
        streaming: true,
        needsRebuild: false,
      });
    // Reads still go to the replicas; the history has no failover.
    await withDb(async (db) => expect(await db.read(onReplica)).toBe(true));
    expect((await call("GET", "/v1/db/failovers")).body).toEqual({ failovers: [] });
  });

  it("switches over to the replica on request, losing nothing, and fences the old primary", async () => {
    await withDb((db) => insert(db, "before-switchover"));
    const res = await call("POST", "/v1/db/failover", { target: "pg-2", reason: "maintenance of pg-1" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ from: "pg-1", to: "pg-2", at: expect.any(Number) });

    await withDb(async (db) => {
      expect(await insert(db, "after-switchover")).toBe(false);
      const notes = await db.write(
        (sql) => sql<Row[]>`select note from items where note like '%-switchover'`,
      );
      expect(notes.map((r) => r.note).sort()).toEqual(["after-switchover", "before-switchover"]);
    });
    await runChecks();
    const body = await status();
    expect(body.primary).toBe("pg-2");
    expect(body.epoch).toBe(1);
    // The failed attempt before is history once a promotion succeeded.
    expect(body.failedPromotion).toBeNull();
    expect(nodeOf(body, "pg-1")).toMatchObject({
      role: "replica",
      healthy: false,
      fenced: true,
      stale: true,
      needsRebuild: true,
    });
    // Fenced: stray writes to the old primary are refused.
    await expect(
      onNode("pg-1", (sql) => sql`insert into items (note) values ('stray')`),
    ).rejects.toMatchObject({
      code: "25006",
    });
    const history = await call("GET", "/v1/db/failovers");
    expect(history.body.failovers).toEqual([
      { from: "pg-1", to: "pg-2", at: res.body.at, reason: "maintenance of pg-1", automatic: false },
    ]);
  });

  it("repoints the other replica to the new primary: pg-3 streams from pg-2 and catches up", async () => {
    await until(
      "pg-3 to stream from pg-2",
      async () => (await streamsFrom("pg-3")) === portOf("pg-2"),
      15_000,
    );
    await withDb((db) => insert(db, "after-repoint"));
    await replicaCaughtUp("pg-2", "pg-3");
    await runChecks();
    expect(nodeOf(await status(), "pg-3")).toMatchObject({ role: "replica", healthy: true, streaming: true });
  });

  it("takes a fenced node back once it is rebuilt as a replica", { timeout: 60_000 }, async () => {
    await rejoin("pg-1", "pg-2");
    expect(nodeOf(await status(), "pg-1")).toMatchObject({
      role: "replica",
      healthy: true,
      fenced: false,
      stale: false,
      needsRebuild: false,
    });
    await replicaCaughtUp("pg-2", "pg-1");
    await withDb(async (db) => expect(await db.read(onReplica)).toBe(true));
  });

  it(`fails over automatically after ${FAILURE_THRESHOLD} failed checks of a crashed primary`, async () => {
    // pg-3 lags (replay held back), so the best candidate is pg-1.
    await pauseReplay(["pg-3"]);
    await withDb((db) => insert(db, "before-crash"));
    const crashedAt = Date.now();
    await control("pg-2", "crash");
    await runChecks();
    const firstFailure = nodeOf(await status(), "pg-2").checkedAt as number;
    await runChecks(FAILURE_THRESHOLD - 2);
    let body = await status();
    expect(body.primary).toBe("pg-2");
    expect(nodeOf(body, "pg-2")).toMatchObject({ healthy: false, failures: FAILURE_THRESHOLD - 1 });
    await expect(withDb((db) => insert(db, "while-down"))).rejects.toMatchObject({
      name: "DbUnavailableError",
    });

    await runChecks();
    body = await status();
    expect(body.primary).toBe("pg-1");
    expect(body.epoch).toBe(2);
    const history = (await call("GET", "/v1/db/failovers")).body.failovers;
    const last = history.at(-1);
    expect(last).toMatchObject({ from: "pg-2", to: "pg-1", automatic: true });
    // Detected within the configured time: K checks, one interval apart.
    expect(last?.at).toBeLessThanOrEqual(firstFailure + (FAILURE_THRESHOLD - 1) * CHECK_INTERVAL_MS);
    await withDb(async (db) => expect(await insert(db, "after-failover")).toBe(false));
    await resumeReplay(["pg-3"]);
    const promotedAt = Date.now();
    await until(
      "pg-3 to stream from pg-1",
      async () => (await streamsFrom("pg-3")) === portOf("pg-1"),
      15_000,
    );
    const streamingAt = Date.now();
    console.log(
      `pg-3 streamed from the new primary ${streamingAt - promotedAt} ms after the failover answered, ` +
        `${streamingAt - crashedAt} ms after pg-2 was killed (${FAILURE_THRESHOLD} checks run back to back)`,
    );
    await replicaCaughtUp("pg-1", "pg-3");
  });

  it("lists the restarted old primary as a replica that needs a rebuild, and routes no writes to it", async () => {
    await control("pg-2", "start");
    await runChecks();
    const body = await status();
    expect(body.primary).toBe("pg-1");
    expect(nodeOf(body, "pg-2")).toMatchObject({
      role: "replica",
      healthy: false,
      fenced: true,
      stale: true,
      needsRebuild: true,
    });
    await withDb(async (db) => expect(await insert(db, "after-restart")).toBe(false));
    const onOld = await onNode("pg-2", (sql) => sql<Row[]>`select note from items where note like 'after-%'`);
    expect(onOld.map((r) => r.note)).not.toContain("after-failover");
    expect(onOld.map((r) => r.note)).not.toContain("after-restart");
    await expect(
      onNode("pg-2", (sql) => sql`insert into items (note) values ('stray')`),
    ).rejects.toMatchObject({
      code: "25006",
    });
  });

  it("repoints a replica that was down at the failover once it is back: it streams from the new primary", {
    timeout: 60_000,
  }, async () => {
    await rejoin("pg-2", "pg-1");
    await control("pg-3", "stop");
    // Written after pg-3 stopped: pg-3 stays behind the point where pg-2's timeline will fork.
    await withDb((db) => insert(db, "while-pg-3-stopped"));
    await replicaCaughtUp("pg-1", "pg-2");
    await runChecks();

    await control("pg-1", "crash");
    await runChecks(FAILURE_THRESHOLD);
    let body = await status();
    expect(body).toMatchObject({ primary: "pg-2", epoch: 3 });
    expect(nodeOf(body, "pg-3")).toMatchObject({ healthy: false, error: "unreachable" });
    await withDb((db) => insert(db, "after-second-failover"));

    await control("pg-3", "start");
    const startedAt = Date.now();
    // The next check finds pg-3 back and repoints it.
    await runChecks();
    await until(
      "pg-3 to stream from pg-2",
      async () => (await streamsFrom("pg-3")) === portOf("pg-2"),
      15_000,
    );
    console.log(
      `pg-3, down at the failover, streamed from the new primary ${Date.now() - startedAt} ms after it started`,
    );
    await replicaCaughtUp("pg-2", "pg-3");
    await until("pg-3's lag to clear", async () => {
      await runChecks();
      const pg3 = nodeOf(await status(), "pg-3");
      return pg3.streaming === true && pg3.lagBytes === 0 && pg3.lagMs === 0;
    });
    body = await status();
    expect(nodeOf(body, "pg-3")).toMatchObject({ role: "replica", healthy: true, needsRebuild: false });
    const notes = await onNode(
      "pg-3",
      (sql) => sql<Row[]>`select note from items where note like 'after-second%'`,
    );
    expect(notes.map((r) => r.note)).toEqual(["after-second-failover"]);
  });

  it("reports a replica that replayed past the new primary's fork as needing a rebuild, and never routes to it", {
    timeout: 60_000,
  }, async () => {
    await rejoin("pg-1", "pg-2");
    // pg-1 loses its link to pg-2; pg-3 gets one more write, then is stopped.
    await onNode("pg-1", async (sql) => {
      await sql.unsafe("alter system set primary_conninfo = ''");
      await sql`select pg_reload_conf()`;
    });
    // Until its WAL receiver has exited, not just left `streaming`: one still stopping can take
    // the write below, and pg-1 would then hold it and not be forked from pg-3 (seen in CI).
    await until("pg-1's WAL receiver to exit", async () => {
      const [row] = await onNode(
        "pg-1",
        (sql) => sql<{ n: number }[]>`select count(*)::int as n from pg_stat_wal_receiver`,
      );
      return row?.n === 0;
    });
    await withDb((db) => insert(db, "only-on-pg-3"));
    await replicaCaughtUp("pg-2", "pg-3");
    await runChecks();
    await control("pg-3", "stop");

    await control("pg-2", "crash");
    await runChecks(FAILURE_THRESHOLD);
    expect(await status()).toMatchObject({ primary: "pg-1", epoch: 4 });

    await control("pg-3", "start");
    await runChecks();
    // Pointed at pg-1 all the same, so that it cannot stream from pg-2 should pg-2 come back.
    const [conninfo] = await onNode(
      "pg-3",
      (sql) => sql<{ v: string }[]>`select current_setting('primary_conninfo') as v`,
    );
    expect(conninfo?.v).toContain(`port=${portOf("pg-1")}`);
    await runChecks();
    const pg3 = nodeOf(await status(), "pg-3");
    expect(pg3).toMatchObject({ role: "replica", healthy: false, needsRebuild: true, streaming: false });
    expect(await streamsFrom("pg-3")).toBeUndefined();
    // No replica to read from: reads go to the primary.
    await withDb(async (db) => expect(await db.read(onReplica)).toBe(false));
    const onPrimary = await onNode(
      "pg-1",
      (sql) => sql<Row[]>`select note from items where note = 'only-on-pg-3'`,
    );
    expect(onPrimary).toEqual([]);
  });

  it("answers 503 unavailable, never another 5xx, when the primary is down", async () => {
    // With no replica left to promote, a switchover has no candidate.
    await control("pg-3", "stop");
    await control("pg-1", "crash");
    await runChecks();
    const point = await call("POST", "/v1/db/restore-points", { name: "while-down" });
    expect(point.status).toBe(503);
    expect(point.error?.code).toBe("unavailable");
    expect(point.text).not.toMatch(/ECONN|stack|at .*\.ts/);
    const body = await status();
    expect(nodeOf(body, "pg-1")).toMatchObject({ healthy: false, error: "unreachable" });
    const switchover = await call("POST", "/v1/db/failover", { reason: "no candidates" });
    expect(switchover.status).toBe(409);
    // test/db/pool.test.ts runs on pg-2, whichever file goes first.
    await control("pg-2", "start");
  });
});
