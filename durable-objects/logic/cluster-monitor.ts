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
 *   forgotten) is adopted rather than split-brained.
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
    const decision: Decision = { fence: [] };
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
      if (!probe?.ok || !probe.inRecovery || node.fenced) continue;
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

  /** Records a promotion: `to` is the primary, `from` is fenced for good. */
  promoted(from: string, to: string): void {
    this.state.primary = to;
    this.state.epoch++;
    const old = this.node(from);
    if (old) {
      old.fenced = true;
      old.healthy = false;
    }
    const next = this.node(to);
    if (next) asPrimary(next, true);
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
      // A fenced node back in recovery has been rebuilt as a replica: it rejoined.
      node.fenced = false;
      node.stale = false;
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
