/**
 * The failover rules of the cluster object, free of I/O: it takes what each node's check found
 * and decides health, lag, which node is the primary, which nodes are stale, and whether to fail
 * over. The object runs the checks, calls {@link ClusterMonitor.observe}, and carries out the
 * decision (promote, fence) before it stores the state.
 *
 * Rules, after Patroni and pg_auto_failover:
 * - a node is down after `failureThreshold` consecutive failed checks (K); the primary down means
 *   failover to the reachable replica with the least lag behind the last primary position seen,
 *   when that lag is within `maximumLagOnFailover` bytes;
 * - the old primary is fenced: never routed to again; if it comes back accepting writes it is a
 *   stale primary (reported, made read-only) until it is rebuilt as a replica, which unfences it;
 * - among nodes accepting writes, the highest timeline wins: a promotion done elsewhere (or
 *   forgotten) is adopted rather than split-brained;
 * - every replica follows the current primary: one that could not be repointed at promotion time
 *   is repointed once it answers again, unless it replayed past the point where the new timeline
 *   forked off: then it cannot follow, needs a rebuild and is never routed to.
 */
import type { HaSettings, NodeConfig } from "../../shared/db/config.ts";
import { lsnDiff, lsnReached } from "../../shared/db/lsn.ts";
import type { NodeView, Topology } from "../../shared/db/topology.ts";

/** A row of the primary's `pg_stat_replication`. */
export interface ReplicationRow {
  applicationName: string;
  state: string;
  lagBytes: number | null;
}

/** The primary's `pg_stat_archiver`, with whether archiving is on at all. */
export interface ArchiverRow {
  archiving: boolean;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: number | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: number | null;
}

/** What one check of one node found. */
export type Probe =
  | { ok: false; error: string }
  | {
      ok: true;
      inRecovery: false;
      timeline: number;
      currentLsn: string;
      readOnly: boolean;
      replication: ReplicationRow[];
      archiver: ArchiverRow;
    }
  | {
      ok: true;
      inRecovery: true;
      receiveLsn: string | null;
      replayLsn: string | null;
      lagMs: number | null;
      streaming: boolean;
      /** The timeline its WAL receiver last received (null without a receiver). */
      timeline: number | null;
    };

/** The backup check: is WAL archiving working, and how many failures since the last success. */
export interface BackupStatus {
  archiving: boolean;
  healthy: boolean;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: number | null;
  failedCount: number;
  lastFailedAt: number | null;
  /** Archive attempts that failed after the last successful one. */
  failuresSinceLastArchive: number;
  checkedAt: number;
}

/** What the monitor keeps between checks (persisted by the object). */
export interface MonitorState {
  primary: string;
  epoch: number;
  /** The primary's WAL position at its last successful check: failover lag is measured from it. */
  lastPrimaryLsn: string | null;
  nodes: NodeView[];
  backup: BackupStatus | null;
  /** `failedCount` when the last archived WAL was first seen, to count failures since. */
  failedAtLastArchive: number;
  /** Node name → the epoch whose primary it was last pointed at (absent: 0, as configured). */
  following: Record<string, number>;
  /** Where each promotion forked the new timeline off the old one, when known. */
  forks: Array<{ epoch: number; lsn: string }>;
  /**
   * Node name → the fork LSN a repointed replica must not have replayed past, until it streams:
   * a replica probed while it still replays its own WAL after a restart can look behind the fork
   * and pass it a moment later.
   */
  forkToPass: Record<string, string>;
  /** The last promotion that failed since one last succeeded. */
  failedPromotion: FailedPromotion | null;
}

/** A promotion that did not happen, as `GET /v1/db/status` reports it. */
export interface FailedPromotion {
  from: string;
  to: string;
  at: number;
  reason: string;
  automatic: boolean;
  /** Short and generic: `refused (server error 42501)`, `unreachable`, ... */
  error: string;
}

/** What to do after a round of checks. */
export interface Decision {
  /** Promote `to` in place of `from`. */
  failover?: { from: string; to: string; lagBytes: number | null };
  /** The primary is down but no replica qualifies; why. */
  blocked?: string;
  /** A promotion found already done (higher timeline): recorded as an automatic failover. */
  adopted?: { from: string; to: string };
  /** Writable nodes that are not the primary: make them read-only. */
  fence: string[];
  /** Replicas that do not follow the current primary yet and can: point them at it. */
  repoint: string[];
}

/** A fresh state from configuration: the configured roles, nothing checked yet. */
export function initialState(nodes: readonly NodeConfig[]): MonitorState {
  const primary = nodes.find((n) => n.role === "primary")?.name ?? "";
  return {
    primary,
    epoch: 0,
    lastPrimaryLsn: null,
    backup: null,
    failedAtLastArchive: 0,
    following: {},
    forks: [],
    forkToPass: {},
    failedPromotion: null,
    nodes: nodes.map((n) => ({
      name: n.name,
      region: n.region,
      binding: n.binding,
      role: n.role,
      healthy: false,
      fenced: false,
      stale: false,
      failures: 0,
      checkedAt: 0,
    })),
  };
}

/** Whether a replica replayed WAL past `fork`: WAL the new timeline never had. */
function passedFork(replayed: string | null | undefined, fork: string): boolean {
  return !!replayed && replayed !== fork && lsnReached(replayed, fork);
}

/** Out of routing and failover until rebuilt (it streams again). */
function fenceDiverged(node: NodeView): void {
  node.fenced = true;
  node.healthy = false;
}

export class ClusterMonitor {
  readonly state: MonitorState;
  readonly #settings: HaSettings;

  constructor(state: MonitorState, settings: HaSettings) {
    this.state = state;
    this.#settings = settings;
  }

  /** The routing view. */
  topology(): Topology {
    return {
      primary: this.state.primary,
      epoch: this.state.epoch,
      nodes: this.state.nodes.map((n) => ({ ...n })),
    };
  }

  node(name: string): NodeView | undefined {
    return this.state.nodes.find((n) => n.name === name);
  }

  /** Applies one round of checks taken at `now` and decides what to do. */
  observe(probes: Record<string, Probe>, now: number): Decision {
    const decision: Decision = { fence: [], repoint: [] };
    for (const node of this.state.nodes) this.#record(node, probes[node.name], now);
    this.#adoptHighestTimeline(probes, decision);
    const primary = this.node(this.state.primary);
    const primaryProbe = probes[this.state.primary];
    if (primary && primaryProbe?.ok && !primaryProbe.inRecovery) {
      primary.healthy = !primary.fenced;
      this.state.lastPrimaryLsn = primaryProbe.currentLsn;
      this.#replicaLag(primaryProbe.currentLsn, primaryProbe.replication, probes);
      this.#backup(primaryProbe.archiver, now);
    } else if (this.state.lastPrimaryLsn) {
      this.#replicaLag(this.state.lastPrimaryLsn, [], probes);
    }
    for (const node of this.state.nodes) {
      const probe = probes[node.name];
      if (node.name === this.state.primary || !probe?.ok || probe.inRecovery) continue;
      // Writable but not the primary: a stale primary (or a split brain); never route to it.
      node.fenced = true;
      node.stale = true;
      node.healthy = false;
      if (!probe.readOnly) decision.fence.push(node.name);
    }
    this.#followers(probes, decision);
    if (primary && primary.failures >= this.#settings.failureThreshold)
      this.#chooseFailover(primary, probes, decision);
    return decision;
  }

  /**
   * The best replica to promote in place of the primary, or why there is none: reachable, in
   * recovery, never fenced, within `maximumLagOnFailover` of the last primary position; least lag
   * first, then configuration order. `target` restricts the choice to one node.
   */
  candidate(
    probes: Record<string, Probe>,
    target?: string,
  ): { node: NodeView; lagBytes: number | null } | string {
    const options: Array<{ node: NodeView; lagBytes: number | null }> = [];
    for (const node of this.state.nodes) {
      const probe = probes[node.name];
      if (node.name === this.state.primary || (target !== undefined && node.name !== target)) continue;
      if (!probe?.ok || !probe.inRecovery || node.fenced || !this.#follows(node.name)) continue;
      const position = furthest(probe.receiveLsn, probe.replayLsn);
      const lagBytes =
        this.state.lastPrimaryLsn && position
          ? Math.max(0, lsnDiff(this.state.lastPrimaryLsn, position))
          : null;
      if (lagBytes !== null && lagBytes > this.#settings.maximumLagOnFailover) continue;
      options.push({ node, lagBytes });
    }
    options.sort((a, b) => (a.lagBytes ?? 0) - (b.lagBytes ?? 0));
    return (
      options[0] ??
      (target
        ? `${target} is not a reachable replica within ${this.#settings.maximumLagOnFailover} bytes of the primary`
        : `no reachable replica within ${this.#settings.maximumLagOnFailover} bytes of the primary`)
    );
  }

  /**
   * Records a promotion: `to` is the primary, `from` is fenced for good. `forkLsn` is where the
   * new timeline began (see `promote` in pg-probe.ts), unknown for a promotion adopted.
   */
  promoted(from: string, to: string, forkLsn?: string | null): void {
    this.state.primary = to;
    this.state.epoch++;
    this.state.following[to] = this.state.epoch;
    if (forkLsn) this.state.forks.push({ epoch: this.state.epoch, lsn: forkLsn });
    this.state.failedPromotion = null;
    const old = this.node(from);
    if (old) {
      old.fenced = true;
      old.healthy = false;
    }
    const next = this.node(to);
    if (next) asPrimary(next, true);
  }

  /** Records that `name` now streams from the current primary (it was repointed). */
  repointed(name: string): void {
    this.state.following[name] = this.state.epoch;
  }

  /** Records a promotion that did not happen; the primary stays where it was. */
  promotionFailed(failure: FailedPromotion): void {
    this.state.failedPromotion = failure;
  }

  #follows(name: string): boolean {
    return (this.state.following[name] ?? 0) >= this.state.epoch;
  }

  /**
   * Replicas behind the current epoch (down when the primary changed, or never pointed at it):
   * all are to be repointed. One that replayed past the fork of the first promotion it missed
   * holds WAL the new primary never had: it is fenced until rebuilt, and repointed all the same so
   * that it cannot go on streaming from the old primary (the new one refuses its position).
   */
  #followers(probes: Record<string, Probe>, decision: Decision): void {
    const primaryProbe = probes[this.state.primary];
    const primaryTimeline = primaryProbe?.ok && !primaryProbe.inRecovery ? primaryProbe.timeline : undefined;
    for (const node of this.state.nodes) {
      const probe = probes[node.name];
      if (node.name === this.state.primary) continue;
      if (this.#follows(node.name)) {
        this.#watchRepointed(node, probe);
        continue;
      }
      if (!probe?.ok || !probe.inRecovery) continue;
      // Streaming the primary's own timeline already (rebuilt from it, or repointed by hand).
      const onPrimaryTimeline = probe.streaming && probe.timeline === primaryTimeline;
      const missed = (this.state.following[node.name] ?? 0) + 1;
      const fork = this.state.forks.find((f) => f.epoch === missed)?.lsn;
      if (!onPrimaryTimeline && fork && passedFork(probe.replayLsn, fork)) {
        fenceDiverged(node);
      } else if (!onPrimaryTimeline && fork) {
        this.state.forkToPass[node.name] = fork;
      }
      decision.repoint.push(node.name);
    }
  }

  /**
   * A replica repointed while behind the fork: once it streams from the primary it is done; if it
   * replays past the fork first (WAL of its own, replayed after a restart), it diverged after all.
   */
  #watchRepointed(node: NodeView, probe: Probe | undefined): void {
    const fork = this.state.forkToPass[node.name];
    if (!fork || !probe?.ok || !probe.inRecovery) return;
    if (probe.streaming) {
      delete this.state.forkToPass[node.name];
    } else if (passedFork(probe.replayLsn, fork)) {
      delete this.state.forkToPass[node.name];
      fenceDiverged(node);
    }
  }

  #record(node: NodeView, probe: Probe | undefined, now: number): void {
    node.checkedAt = now;
    if (!probe?.ok) {
      node.failures++;
      node.healthy = false;
      node.error = probe ? probe.error : "not checked";
      node.streaming = undefined;
      return;
    }
    node.failures = 0;
    node.error = undefined;
    if (probe.inRecovery) {
      node.role = "replica";
      node.healthy = true;
      node.streaming = probe.streaming;
      node.lagMs = probe.lagMs ?? undefined;
      node.replayLsn = probe.replayLsn ?? undefined;
      // In recovery it takes no writes: not stale. A fenced node streaming in recovery has been
      // rebuilt as a replica (of the current primary, as a rebuild is): it rejoined. Fenced but
      // not streaming, it may be a replica that diverged: it stays out until it streams.
      node.stale = false;
      if (node.fenced && probe.streaming) {
        node.fenced = false;
        this.state.following[node.name] = this.state.epoch;
      }
    } else {
      // Healthy only once it is known to be the primary (see observe).
      asPrimary(node, false);
    }
  }

  /** Makes the writable, unfenced node with the highest timeline the primary, if it is not already. */
  #adoptHighestTimeline(probes: Record<string, Probe>, decision: Decision): void {
    let best: { name: string; timeline: number } | undefined;
    for (const node of this.state.nodes) {
      const probe = probes[node.name];
      if (!probe?.ok || probe.inRecovery || node.fenced) continue;
      const wins =
        !best ||
        probe.timeline > best.timeline ||
        (probe.timeline === best.timeline && node.name === this.state.primary);
      if (wins) best = { name: node.name, timeline: probe.timeline };
    }
    if (!best || best.name === this.state.primary) return;
    const current = probes[this.state.primary];
    const currentWritable = current?.ok && !current.inRecovery && !this.node(this.state.primary)?.fenced;
    if (currentWritable && current.timeline >= best.timeline) return;
    decision.adopted = { from: this.state.primary, to: best.name };
    this.promoted(this.state.primary, best.name);
  }

  /** Replica byte lag: from `pg_stat_replication` when it names the replica, else from positions. */
  #replicaLag(
    primaryLsn: string,
    replication: readonly ReplicationRow[],
    probes: Record<string, Probe>,
  ): void {
    for (const node of this.state.nodes) {
      const probe = probes[node.name];
      if (!probe?.ok || !probe.inRecovery) continue;
      const row = replication.find((r) => r.applicationName === node.name);
      const position = probe.replayLsn;
      node.lagBytes = row?.lagBytes ?? (position ? Math.max(0, lsnDiff(primaryLsn, position)) : undefined);
    }
  }

  #backup(archiver: ArchiverRow, now: number): void {
    const previous = this.state.backup;
    if (archiver.lastArchivedWal !== previous?.lastArchivedWal)
      this.state.failedAtLastArchive = archiver.failedCount;
    const failuresSince = Math.max(0, archiver.failedCount - this.state.failedAtLastArchive);
    const failing = archiver.lastFailedAt !== null && (archiver.lastArchivedAt ?? 0) < archiver.lastFailedAt;
    this.state.backup = {
      archiving: archiver.archiving,
      healthy: archiver.archiving && !failing,
      archivedCount: archiver.archivedCount,
      lastArchivedWal: archiver.lastArchivedWal,
      lastArchivedAt: archiver.lastArchivedAt,
      failedCount: archiver.failedCount,
      lastFailedAt: archiver.lastFailedAt,
      failuresSinceLastArchive: failing ? Math.max(1, failuresSince) : failuresSince,
      checkedAt: now,
    };
  }

  #chooseFailover(primary: NodeView, probes: Record<string, Probe>, decision: Decision): void {
    if (!this.#settings.autoFailover) {
      decision.blocked = "automatic failover is off";
      return;
    }
    const choice = this.candidate(probes);
    if (typeof choice === "string") decision.blocked = choice;
    else decision.failover = { from: primary.name, to: choice.node.name, lagBytes: choice.lagBytes };
  }
}

/** Marks a node as accepting writes: replica-only measures no longer apply. */
function asPrimary(node: NodeView, healthy: boolean): void {
  node.role = "primary";
  node.healthy = healthy;
  node.streaming = undefined;
  node.lagMs = undefined;
  node.lagBytes = undefined;
  node.replayLsn = undefined;
}

function furthest(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return lsnReached(a, b) ? a : b;
}
