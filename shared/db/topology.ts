/**
 * What the cluster object knows about every node, as routing needs it, and the pure choice of
 * where a read may go.
 */
import { lsnReached } from "./lsn.ts";

/** One node as last checked. */
export interface NodeView {
  name: string;
  region: string;
  /** The Hyperdrive binding that reaches it. */
  binding: string;
  role: "primary" | "replica";
  /** Reachable and in the role routing expects of it. */
  healthy: boolean;
  /** A replica receiving WAL from a primary right now. */
  streaming?: boolean;
  /** Replica: how far its replayed data is behind, in time (0 when caught up). */
  lagMs?: number;
  /** Replica: WAL bytes between the primary's position and its replay position. */
  lagBytes?: number;
  /** Replica: the last WAL position it replayed. */
  replayLsn?: string;
  /**
   * A former primary that was failed over, or a replica that replayed past the new primary's
   * fork: never routed to again until rebuilt as a replica (seen streaming).
   */
  fenced: boolean;
  /** A fenced node that is up again and accepts writes: a stale primary that needs rejoining. */
  stale: boolean;
  /** Consecutive failed checks. */
  failures: number;
  /** When it was last checked (0: never). */
  checkedAt: number;
  /** Why the last check failed, when it did. */
  error?: string;
}

/** The cluster as routing sees it: where writes go and every node's state. */
export interface Topology {
  /** Name of the node writes go to. */
  primary: string;
  /** Grows with every failover, so a cached topology can be told from a newer one. */
  epoch: number;
  nodes: NodeView[];
}

/** Bounds on a read that may be served by a replica. */
export interface ReadOptions {
  /** Largest acceptable replica lag in milliseconds; unset: any streaming replica. */
  maxLagMs?: number;
  /** Preferred region, or regions nearest first: replicas there are tried before others. */
  region?: string | readonly string[];
}

/** A replica that may serve reads: healthy, streaming, never fenced, within `maxLagMs`. */
export function readableReplica(node: NodeView, maxLagMs: number | undefined): boolean {
  if (node.role !== "replica" || !node.healthy || node.fenced || node.stale || !node.streaming) return false;
  return maxLagMs === undefined || (node.lagMs !== undefined && node.lagMs <= maxLagMs);
}

/**
 * Replicas that may serve a read, best first: nearest region in the caller's order, then least
 * lag, then name.
 */
export function readCandidates(topology: Topology, options: ReadOptions = {}): NodeView[] {
  const regions = typeof options.region === "string" ? [options.region] : (options.region ?? []);
  const rank = (n: NodeView) => {
    const i = regions.indexOf(n.region);
    return i < 0 ? regions.length : i;
  };
  return topology.nodes
    .filter((n) => readableReplica(n, options.maxLagMs))
    .sort((a, b) => rank(a) - rank(b) || (a.lagMs ?? 0) - (b.lagMs ?? 0) || a.name.localeCompare(b.name));
}

/** Most bounds remembered per topology: callers use a handful, but nothing stops one varying them. */
const MAX_CACHED_BOUNDS = 32;
const candidatesByTopology = new WeakMap<Topology, Map<string, readonly NodeView[]>>();

/**
 * {@link readCandidates}, remembered per topology object and bounds: a topology is a snapshot
 * (routing replaces it, never changes it), so every read between two refreshes reuses one list.
 */
export function cachedReadCandidates(topology: Topology, options: ReadOptions): readonly NodeView[] {
  const region = options.region;
  const key = `${options.maxLagMs}|${typeof region === "string" ? `s${region}` : `a${JSON.stringify(region ?? [])}`}`;
  let byBounds = candidatesByTopology.get(topology);
  if (byBounds === undefined) {
    byBounds = new Map();
    candidatesByTopology.set(topology, byBounds);
  }
  let candidates = byBounds.get(key);
  if (candidates === undefined) {
    if (byBounds.size >= MAX_CACHED_BOUNDS) byBounds.clear();
    candidates = readCandidates(topology, options);
    byBounds.set(key, candidates);
  }
  return candidates;
}

/** True when the node is known to have replayed `lsn` (false when unknown). */
export function knownReplayed(node: NodeView, lsn: string): boolean {
  return node.replayLsn !== undefined && lsnReached(node.replayLsn, lsn);
}
