import { describe, expect, it } from "vitest";
import {
  type ArchiverRow,
  ClusterMonitor,
  initialState,
  type Probe,
} from "../../../durable-objects/logic/cluster-monitor.ts";
import { HaSettingsSchema, type NodeConfig } from "../../../shared/db/config.ts";

const NODES: NodeConfig[] = [
  { name: "a", region: "weur", binding: "A", role: "primary" },
  { name: "b", region: "enam", binding: "B", role: "replica" },
  { name: "c", region: "apac", binding: "C", role: "replica" },
];

const archiver: ArchiverRow = {
  archiving: true,
  archivedCount: 3,
  lastArchivedWal: "000000010000000000000003",
  lastArchivedAt: 1_000,
  failedCount: 0,
  lastFailedWal: null,
  lastFailedAt: null,
};

const primary = (lsn: string, extra: Partial<Extract<Probe, { inRecovery: false }>> = {}): Probe => ({
  ok: true,
  inRecovery: false,
  timeline: 1,
  currentLsn: lsn,
  readOnly: false,
  replication: [],
  archiver,
  ...extra,
});
const replica = (
  replayLsn: string,
  lagMs = 0,
  extra: Partial<Extract<Probe, { inRecovery: true }>> = {},
): Probe => ({
  ok: true,
  inRecovery: true,
  receiveLsn: replayLsn,
  replayLsn,
  lagMs,
  streaming: true,
  timeline: 1,
  ...extra,
});
/** A replica whose WAL receiver cannot stream (its primary is gone). */
const stranded = (replayLsn: string): Probe => replica(replayLsn, 0, { streaming: false, timeline: null });
const down: Probe = { ok: false, error: "unreachable" };

function monitor(settings: Record<string, unknown> = {}) {
  return new ClusterMonitor(
    initialState(NODES),
    HaSettingsSchema.parse({ failureThreshold: 3, ...settings }),
  );
}

/** b as the primary after the failover from a: on timeline 2, past the fork at 0/3000100. */
const tl2 = primary("0/3100000", { timeline: 2 });
/** A replica streaming timeline 2 from b. */
const onTl2 = replica("0/3100000", 0, { timeline: 2 });

/** A monitor that saw a fail over from a to b, forking at 0/3000100, while c was down. */
function failedOverWhileCDown() {
  const m = monitor();
  m.observe({ a: primary("0/3000000"), b: replica("0/3000000"), c: down }, 0);
  m.promoted("a", "b", "0/3000100");
  return m;
}

describe("ClusterMonitor", () => {
  it("marks nodes healthy and measures replica lag from pg_stat_replication, else from positions", () => {
    const m = monitor();
    const d = m.observe(
      {
        a: primary("0/3000000", {
          replication: [{ applicationName: "b", state: "streaming", lagBytes: 42 }],
        }),
        b: replica("0/2FFFFD6", 15),
        c: replica("0/2000000"),
      },
      100,
    );
    expect(d).toEqual({ fence: [], repoint: [] });
    expect(m.node("a")).toMatchObject({ role: "primary", healthy: true, failures: 0, checkedAt: 100 });
    expect(m.node("b")).toMatchObject({
      role: "replica",
      healthy: true,
      lagBytes: 42,
      lagMs: 15,
      streaming: true,
    });
    expect(m.node("c")).toMatchObject({ lagBytes: 0x1000000 });
    expect(m.state.lastPrimaryLsn).toBe("0/3000000");
  });

  it("fails over only at the K-th consecutive failure, to the replica with the least lag", () => {
    const m = monitor();
    m.observe({ a: primary("0/3000000"), b: replica("0/3000000"), c: replica("0/3000000") }, 0);
    const probes = { a: down, b: replica("0/2FFF000"), c: replica("0/3000000") };
    expect(m.observe(probes, 1).failover).toBeUndefined();
    expect(m.observe(probes, 2).failover).toBeUndefined();
    expect(m.observe(probes, 3).failover).toEqual({ from: "a", to: "c", lagBytes: 0 });
  });

  it("a success in between resets the count of failures", () => {
    const m = monitor();
    const ok = { a: primary("0/1000000"), b: replica("0/1000000"), c: replica("0/1000000") };
    const bad = { ...ok, a: down };
    m.observe(bad, 1);
    m.observe(bad, 2);
    m.observe(ok, 3);
    m.observe(bad, 4);
    expect(m.observe(bad, 5).failover).toBeUndefined();
    expect(m.node("a")?.failures).toBe(2);
  });

  it("blocks failover when every replica lags more than maximumLagOnFailover, or when it is off", () => {
    const m = monitor({ maximumLagOnFailover: 1024 });
    m.observe({ a: primary("0/3000000"), b: replica("0/2000000"), c: down }, 0);
    const probes = { a: down, b: replica("0/2000000"), c: down };
    for (let t = 1; t <= 3; t++) m.observe(probes, t);
    const d = m.observe(probes, 4);
    expect(d.failover).toBeUndefined();
    expect(d.blocked).toMatch(/1024 bytes/);

    const off = monitor({ autoFailover: false });
    for (let t = 1; t <= 3; t++) off.observe({ a: down, b: replica("0/1"), c: replica("0/1") }, t);
    expect(off.observe({ a: down, b: replica("0/1"), c: replica("0/1") }, 4).blocked).toBe(
      "automatic failover is off",
    );
  });

  it("after a promotion the old primary is fenced, reported stale when it returns, and made read-only", () => {
    const m = monitor();
    m.promoted("a", "b");
    expect(m.state).toMatchObject({ primary: "b", epoch: 1 });
    const d = m.observe({ a: primary("0/3000000"), b: tl2, c: down }, 10);
    expect(d.fence).toEqual(["a"]);
    expect(m.node("a")).toMatchObject({ role: "primary", healthy: false, fenced: true, stale: true });
    expect(m.node("b")).toMatchObject({ role: "primary", healthy: true });
    // Already read-only: nothing more to do, still stale.
    const again = m.observe(
      { a: primary("0/3000000", { readOnly: true }), b: primary("0/3100000"), c: down },
      11,
    );
    expect(again.fence).toEqual([]);
    expect(m.node("a")?.stale).toBe(true);
  });

  it("unfences a former primary once it is rebuilt as a replica", () => {
    const m = monitor();
    m.promoted("a", "b");
    m.observe({ a: primary("0/3000000"), b: tl2, c: down }, 1);
    m.observe({ a: replica("0/3100000"), b: tl2, c: down }, 2);
    expect(m.node("a")).toMatchObject({ role: "replica", healthy: true, fenced: false, stale: false });
  });

  it("adopts a primary promoted on a newer timeline instead of keeping two", () => {
    const m = monitor();
    const d = m.observe({ a: primary("0/3000000"), b: primary("0/3000100", { timeline: 2 }), c: down }, 1);
    expect(d.adopted).toEqual({ from: "a", to: "b" });
    expect(d.fence).toEqual(["a"]);
    expect(m.state.primary).toBe("b");
  });

  it("never promotes a fenced node and lets a named target be chosen", () => {
    const m = monitor();
    m.observe({ a: primary("0/3000000"), b: replica("0/3000000"), c: replica("0/2FFFF00") }, 0);
    const probes = { a: primary("0/3000000"), b: replica("0/3000000"), c: replica("0/2FFFF00") };
    expect(m.candidate(probes, "c")).toMatchObject({ node: { name: "c" }, lagBytes: 256 });
    expect(m.candidate(probes)).toMatchObject({ node: { name: "b" } });
    const b = m.node("b");
    if (b) b.fenced = true;
    expect(m.candidate(probes, "b")).toMatch(/b is not a reachable replica/);
  });

  it("repoints a replica that was down at the promotion once it answers, and never offers it before", () => {
    const m = monitor();
    m.observe({ a: primary("0/3000000"), b: replica("0/3000000"), c: replica("0/3000000") }, 0);
    m.promoted("a", "b", "0/3000100");
    m.repointed("c");
    // c followed at promotion time; a is the old primary (fenced, down).
    expect(m.observe({ a: down, b: tl2, c: onTl2 }, 1).repoint).toEqual([]);

    // Now c is down during the next promotion, to a rebuilt a.
    const n = failedOverWhileCDown();
    expect(n.observe({ a: down, b: tl2, c: down }, 1).repoint).toEqual([]);
    // Back, still pointed at the dead a, and behind the fork: repointed, never a failover candidate.
    const back = { a: down, b: tl2, c: stranded("0/3000000") };
    expect(n.observe(back, 2).repoint).toEqual(["c"]);
    expect(n.candidate(back, "c")).toMatch(/c is not a reachable replica/);
    expect(n.node("c")).toMatchObject({ fenced: false });
    n.repointed("c");
    expect(n.observe({ ...back, c: onTl2 }, 3).repoint).toEqual([]);
    expect(n.candidate({ ...back, c: onTl2 }, "c")).toMatchObject({ node: { name: "c" } });
  });

  it("fences a returning replica that replayed past the fork: it needs a rebuild, yet is repointed", () => {
    const m = failedOverWhileCDown();
    const d = m.observe({ a: down, b: tl2, c: stranded("0/3000200") }, 1);
    // Repointed all the same, so that it cannot go on streaming from a if a comes back.
    expect(d.repoint).toEqual(["c"]);
    expect(m.node("c")).toMatchObject({ fenced: true, healthy: false });
    expect(m.topology().nodes.find((n) => n.name === "c")?.fenced).toBe(true);
    m.repointed("c");
    // The new primary refuses its position: not streaming, so it stays fenced.
    m.observe({ a: down, b: tl2, c: stranded("0/3000200") }, 2);
    expect(m.node("c")?.fenced).toBe(true);
    // Rebuilt from b: it streams, and is taken back.
    m.observe({ a: down, b: tl2, c: onTl2 }, 3);
    expect(m.node("c")).toMatchObject({ fenced: false, healthy: true });
  });

  it("fences a repointed replica that replays past the fork before it streams (a restart's own WAL)", () => {
    const m = failedOverWhileCDown();
    // Probed mid start-up: behind the fork, so repointed and not fenced yet.
    expect(m.observe({ a: down, b: tl2, c: stranded("0/3000000") }, 1).repoint).toEqual(["c"]);
    m.repointed("c");
    expect(m.node("c")?.fenced).toBe(false);
    // It goes on replaying its own WAL past the fork, and the new primary refuses it.
    m.observe({ a: down, b: tl2, c: stranded("0/3000200") }, 2);
    expect(m.node("c")).toMatchObject({ fenced: true, healthy: false });
    expect(m.topology().nodes.find((n) => n.name === "c")?.fenced).toBe(true);
    // Rebuilt from b: it streams, and is taken back.
    m.observe({ a: down, b: tl2, c: onTl2 }, 3);
    expect(m.node("c")).toMatchObject({ fenced: false, healthy: true });
  });

  it("stops watching a repointed replica once it streams", () => {
    const m = failedOverWhileCDown();
    const ahead = primary("0/3200000", { timeline: 2 });
    m.observe({ a: down, b: ahead, c: stranded("0/3000000") }, 1);
    m.repointed("c");
    m.observe({ a: down, b: ahead, c: onTl2 }, 2);
    // Past the fork on the new timeline, between two reconnects: not a divergence.
    m.observe({ a: down, b: ahead, c: stranded("0/3100000") }, 3);
    expect(m.node("c")?.fenced).toBe(false);
  });

  it("does not fence a replica past the fork that streams the primary's timeline already", () => {
    const m = failedOverWhileCDown();
    const d = m.observe({ a: down, b: tl2, c: onTl2 }, 1);
    expect(d.repoint).toEqual(["c"]);
    expect(m.node("c")?.fenced).toBe(false);
  });

  it("keeps a failed promotion for the status until one succeeds", () => {
    const m = monitor();
    const failure = {
      from: "a",
      to: "b",
      at: 5,
      reason: "maintenance",
      automatic: false,
      error: "refused (server error 42501)",
    };
    m.promotionFailed(failure);
    m.observe({ a: primary("0/1"), b: replica("0/1"), c: replica("0/1") }, 6);
    expect(m.state).toMatchObject({ primary: "a", epoch: 0, failedPromotion: failure });
    m.promoted("a", "c", "0/1");
    expect(m.state.failedPromotion).toBeNull();
  });

  it("reports archiving failures since the last archived WAL", () => {
    const m = monitor();
    const probes = (a: ArchiverRow) => ({ a: primary("0/1", { archiver: a }), b: down, c: down });
    m.observe(probes(archiver), 1);
    expect(m.state.backup).toMatchObject({ healthy: true, failuresSinceLastArchive: 0 });
    m.observe(probes({ ...archiver, failedCount: 2, lastFailedAt: 2_000, lastFailedWal: "x" }), 2);
    expect(m.state.backup).toMatchObject({ healthy: false, failuresSinceLastArchive: 2 });
    m.observe(
      probes({
        ...archiver,
        failedCount: 2,
        lastFailedAt: 2_000,
        lastArchivedAt: 3_000,
        lastArchivedWal: "y",
      }),
      3,
    );
    expect(m.state.backup).toMatchObject({ healthy: true, failuresSinceLastArchive: 0 });
  });
});
