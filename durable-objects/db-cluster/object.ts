/**
 * The cluster monitor: one object (named {@link CLUSTER_OBJECT}) checks every Postgres node on its
 * alarm, fails over when the primary stays down, keeps the failover history and the restore
 * points, and hands the topology to the routers. The rules live in {@link ClusterMonitor}; this
 * class runs the checks and promotions and stores the outcome.
 */
import { connectionStringOf, type DbConfig, loadDbConfig } from "../../shared/db/config.ts";
import { PoolManager } from "../../shared/db/pool.ts";
import {
  hasReplayed,
  isConnectionError,
  type PgConnection,
  pgConnector,
  sqlState,
} from "../../shared/db/postgres.ts";
import { openPgSocket } from "../../shared/db/socket.ts";
import type { Topology } from "../../shared/db/topology.ts";
import type { Env } from "../../shared/env.ts";
import { fail, ok, type Result } from "../../shared/errors.ts";
import { sleep } from "../../shared/resilience/clock.ts";
import type {
  ClusterStatus,
  FailoverInput,
  FailoverRecord,
  FailoverResult,
  RestorePoint,
} from "../../shared/schemas/db.ts";
import { ObjectAlarm } from "../lib/alarm.ts";
import {
  CheckTimeout,
  checkNode,
  createRestorePoint,
  currentLsn,
  describeFailure,
  fence,
  followPrimary,
  promote,
  unfence,
  withTimeout,
} from "../lib/pg-probe.ts";
import { SqlObject } from "../lib/sql-object.ts";
import { ClusterMonitor, initialState, type MonitorState, type Probe } from "../logic/cluster-monitor.ts";
import { CLUSTER_SCHEMA, ClusterStore } from "./store.ts";

/** The one object instance that watches the cluster. */
export const CLUSTER_OBJECT = "cluster";

/** Longest a promotion may take (pg_promote waits up to 60 s itself). */
const PROMOTE_TIMEOUT_MS = 65_000;
/** How often a switchover looks at the target's replay position. */
const CATCH_UP_POLL_MS = 25;

const notConfigured = <T>(): Result<T> =>
  fail("unavailable", "no database cluster is configured (DB_NODES is unset)");

/** Keeps the stored state of nodes still configured, adds new ones, drops removed ones. */
function reconcile(stored: MonitorState | null, config: DbConfig): MonitorState {
  const fresh = initialState(config.nodes);
  if (!stored) return fresh;
  const byName = new Map(stored.nodes.map((n) => [n.name, n]));
  const nodes = fresh.nodes.map((n) => {
    const old = byName.get(n.name);
    return old ? { ...old, region: n.region, binding: n.binding } : n;
  });
  const primary = nodes.some((n) => n.name === stored.primary) ? stored.primary : fresh.primary;
  // Spread over a fresh state: state stored before a field existed gets its initial value.
  return { ...fresh, ...stored, primary, nodes };
}

export class DbClusterObject extends SqlObject {
  private readonly store: ClusterStore;
  private readonly alarmTime: ObjectAlarm;
  private readonly config: DbConfig | undefined;
  private readonly pools = new PoolManager<PgConnection>();
  private monitor: ClusterMonitor | undefined;
  /** Checks, failovers and restore points run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, CLUSTER_SCHEMA);
    this.store = new ClusterStore(this.sql);
    this.alarmTime = new ObjectAlarm(ctx.storage, () => this.clock.now());
    this.config = loadDbConfig(env);
    const config = this.config;
    if (config) {
      for (const node of config.nodes) {
        const url = connectionStringOf(env, node);
        this.pools.add(
          node.name,
          pgConnector(url, { connectTimeoutMs: config.ha.checkTimeoutMs, socket: openPgSocket }),
          {
            min: 1,
            max: 1,
            acquireTimeoutMs: PROMOTE_TIMEOUT_MS,
            isBroken: (err) => err instanceof CheckTimeout || isConnectionError(err),
          },
        );
      }
    }
  }

  /** The cluster as `GET /v1/db/status` reports it; checks once first if nothing was checked yet. */
  async status(): Promise<Result<ClusterStatus>> {
    const monitor = await this.started();
    if (!monitor) return notConfigured();
    const { state } = monitor;
    return ok({
      primary: state.primary,
      epoch: state.epoch,
      backup: state.backup,
      failedPromotion: state.failedPromotion,
      nodes: state.nodes.map((n) => {
        // A former primary, or a replica whose timeline diverged, not yet rebuilt: the contract
        // lists it as a replica that needs a rebuild, and it is never routed or written to.
        const needsRebuild = n.fenced && n.name !== state.primary;
        return {
          name: n.name,
          region: n.region,
          role: needsRebuild ? ("replica" as const) : n.role,
          healthy: needsRebuild ? false : n.healthy,
          needsRebuild,
          ...(n.lagMs !== undefined && { lagMs: n.lagMs }),
          ...(n.lagBytes !== undefined && { lagBytes: n.lagBytes }),
          checkedAt: n.checkedAt,
          ...(n.streaming !== undefined && { streaming: n.streaming }),
          fenced: n.fenced,
          stale: n.stale,
          failures: n.failures,
          ...(n.error !== undefined && { error: n.error }),
        };
      }),
    });
  }

  /** What the routers need: the primary and every node's health and lag. */
  async topology(): Promise<Result<Topology>> {
    const monitor = await this.started();
    return monitor ? ok(monitor.topology()) : notConfigured();
  }

  /** Runs one round of checks now (the alarm does this every `checkIntervalMs`). */
  async check(): Promise<Result<Topology>> {
    await this.ready;
    const monitor = this.monitor;
    if (!monitor) return notConfigured();
    await this.exclusive(() => this.round(this.clock.now()));
    return ok(monitor.topology());
  }

  /**
   * Manual switchover to `target` or the best replica. With the primary up it is fenced first
   * (read-only), the target waits until it has replayed the primary's last position, then it is
   * promoted: nothing committed is lost. With the primary down this is a manual failover.
   */
  async failover(input: FailoverInput): Promise<Result<FailoverResult>> {
    const monitor = await this.started();
    if (!monitor) return notConfigured();
    if (input.target !== undefined && !monitor.node(input.target)) {
      return fail("not_found", `no node named ${input.target}`, { field: "target" });
    }
    if (input.target === monitor.state.primary) {
      return fail("conflict", `${input.target} is the primary already`, { field: "target" });
    }
    return this.exclusive(() => this.switchover(monitor, input));
  }

  /** The failover history, oldest first. */
  async failovers(): Promise<Result<{ failovers: FailoverRecord[] }>> {
    await this.ready;
    if (!this.config) return notConfigured();
    return ok({ failovers: this.store.failovers() });
  }

  /** Creates a named restore point on the primary (`pg_create_restore_point`). */
  async createRestorePoint(name: string): Promise<Result<RestorePoint>> {
    const monitor = await this.started();
    if (!monitor) return notConfigured();
    const taken = () => this.store.hasRestorePoint(name);
    const exists = () =>
      fail<RestorePoint>("conflict", `restore point ${name} exists already`, { field: "name" });
    if (taken()) return exists();
    return this.exclusive(async () => {
      // Checked again under the lock: a concurrent call with the same name may have won meanwhile.
      if (taken()) return exists();
      const primary = monitor.state.primary;
      let lsn: string;
      try {
        lsn = await this.onNode(primary, (sql) => createRestorePoint(sql, name));
      } catch (err) {
        return this.unavailable<RestorePoint>(primary, err);
      }
      const point = { name, lsn, createdAt: this.clock.now(), node: primary };
      this.store.addRestorePoint(point);
      return ok(point);
    });
  }

  /** Restore points, oldest first. */
  async restorePoints(): Promise<Result<{ restorePoints: RestorePoint[] }>> {
    await this.ready;
    if (!this.config) return notConfigured();
    return ok({ restorePoints: this.store.restorePoints() });
  }

  /**
   * One round of checks at the time the alarm was set for (an alarm may run late, never early, and
   * `runDurableObjectAlarm` runs it ahead of time in tests), then the next alarm.
   */
  override async alarm(): Promise<void> {
    await this.ready;
    const now = this.alarmTime.ring();
    if (!this.monitor) return;
    await this.exclusive(() => this.round(now));
  }

  /** Reads the monitor's state (kept for the nodes still configured) and the alarm's time. */
  protected override load(): void {
    const meta = this.store.meta();
    this.alarmTime.restore(meta.alarmAt);
    if (this.config) this.monitor = new ClusterMonitor(reconcile(meta.state, this.config), this.config.ha);
  }

  /** Waits for start-up, runs a first round if none ran, and keeps the alarm going. */
  private async started(): Promise<ClusterMonitor | undefined> {
    await this.ready;
    const monitor = this.monitor;
    if (!monitor) return undefined;
    if (monitor.state.nodes.every((n) => n.checkedAt === 0)) {
      await this.exclusive(async () => {
        if (monitor.state.nodes.every((n) => n.checkedAt === 0)) await this.round(this.clock.now());
      });
    } else if (this.alarmTime.at === null) {
      this.transaction(() => this.scheduleNextRound(this.clock.now()));
    }
    return monitor;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Checks every node, applies the rules, carries out failover and fencing, stores, re-arms. */
  private async round(now: number): Promise<void> {
    const monitor = this.monitor as ClusterMonitor;
    const probes = await this.probeAll(monitor.state);
    const decision = monitor.observe(probes, now);
    if (decision.adopted) {
      const { from, to } = decision.adopted;
      this.recordFailover(from, to, now, `observed ${to} promoted on a newer timeline`, true);
    }
    for (const name of decision.fence) {
      await this.onNode(name, fence).catch((err) => console.warn(`fencing ${name} failed`, err));
    }
    // A failover repoints every replica itself, to the node it promotes.
    if (!decision.failover) await this.repoint(monitor, decision.repoint);
    if (decision.failover) {
      const { from, to } = decision.failover;
      const failures = monitor.node(from)?.failures ?? 0;
      await this.promoteAndRecord(
        monitor,
        from,
        to,
        now,
        `primary ${from} failed ${failures} consecutive checks`,
        true,
      );
    } else if (decision.blocked) {
      console.warn(`primary ${monitor.state.primary} is down and cannot fail over: ${decision.blocked}`);
    }
    this.saveStateAndScheduleNextRound(now);
  }

  private async probeAll(state: MonitorState): Promise<Record<string, Probe>> {
    const timeoutMs = this.config?.ha.checkTimeoutMs ?? 2_000;
    const entries = await Promise.all(
      state.nodes.map(async (n): Promise<[string, Probe]> => {
        try {
          return [n.name, await this.pools.get(n.name).use((sql) => withTimeout(timeoutMs, checkNode(sql)))];
        } catch (err) {
          return [n.name, { ok: false, error: describeFailure(err) }];
        }
      }),
    );
    return Object.fromEntries(entries);
  }

  private async switchover(monitor: ClusterMonitor, input: FailoverInput): Promise<Result<FailoverResult>> {
    const now = this.clock.now();
    const probes = await this.probeAll(monitor.state);
    monitor.observe(probes, now);
    const from = monitor.state.primary;
    const choice = monitor.candidate(probes, input.target);
    if (typeof choice === "string") {
      this.save();
      return fail("conflict", choice, input.target ? { field: "target" } : undefined);
    }
    const to = choice.node.name;
    const primaryProbe = probes[from];
    const drained = primaryProbe?.ok === true && !primaryProbe.inRecovery;
    if (drained) {
      const caughtUp = await this.drain(from, to);
      if (!caughtUp.ok) {
        this.save();
        return caughtUp;
      }
    }
    const { result, refused } = await this.promoteAndRecord(
      monitor,
      from,
      to,
      this.clock.now(),
      input.reason,
      false,
    );
    if (!result.ok && drained) {
      if (refused) await this.unfenceUnlessPromoted(from, to);
      else console.error(`${to} may still be promoting: ${from} stays fenced until the checks tell`);
    }
    this.saveStateAndScheduleNextRound(this.clock.now());
    return result;
  }

  /**
   * Fences the primary, then waits until `to` has replayed its final position; on timeout or
   * error the primary is unfenced and the switchover abandoned.
   */
  private async drain(from: string, to: string): Promise<Result<true>> {
    const deadline = this.clock.now() + (this.config?.ha.switchoverTimeoutMs ?? 10_000);
    try {
      const lsn = await this.onNode(from, async (sql) => {
        await fence(sql);
        return currentLsn(sql);
      });
      while (!(await this.onNode(to, (sql) => hasReplayed(sql, lsn)))) {
        if (this.clock.now() > deadline) {
          await this.onNode(from, unfence);
          return fail("unavailable", `${to} did not catch up with ${from} in time; switchover abandoned`);
        }
        await sleep(this.clock, CATCH_UP_POLL_MS);
      }
      return ok(true);
    } catch (err) {
      await this.onNode(from, unfence).catch(() => undefined);
      return this.unavailable(from, err);
    }
  }

  /**
   * After a switchover's promotion failed: gives the fenced primary its writes back, but only
   * once `to` is seen still in recovery. If `to` cannot be checked, or did become a primary after
   * all, `from` stays fenced: no writes until someone looks beats two writable primaries.
   */
  private async unfenceUnlessPromoted(from: string, to: string): Promise<void> {
    try {
      const target = await this.onNode(to, checkNode);
      if (target.ok && target.inRecovery) await this.onNode(from, unfence);
    } catch (err) {
      console.error(`switchover to ${to} failed and ${to} cannot be checked: ${from} stays fenced`, err);
    }
  }

  /**
   * Promotes `to`; on success records the failover and repoints the other replicas. A failure is
   * kept for the status and answered `503 unavailable`; `refused` says that `to` surely is not
   * becoming a primary (`pg_promote` raised an error), as opposed to maybe still promoting (it
   * gave up waiting after its signal was sent, or the connection was lost mid-call).
   */
  private async promoteAndRecord(
    monitor: ClusterMonitor,
    from: string,
    to: string,
    at: number,
    reason: string,
    automatic: boolean,
  ): Promise<{ result: Result<FailoverResult>; refused: boolean }> {
    const failed = (error: string, refused: boolean) => {
      monitor.promotionFailed({ from, to, at: this.clock.now(), reason, automatic, error });
      const outcome = refused
        ? `${from} is still the primary`
        : `${from} stays fenced until ${to} is checked`;
      return {
        result: fail("unavailable", `promoting ${to} failed: ${error}; ${outcome}`, { node: to }),
        refused,
      };
    };
    let forkLsn: string | null;
    try {
      const promotion = await this.onNode(to, promote, PROMOTE_TIMEOUT_MS);
      if (!promotion.promoted) return failed("it did not finish promotion in time", false);
      forkLsn = promotion.forkLsn;
    } catch (err) {
      console.error(`promoting ${to} failed`, err);
      const refused = sqlState(err) !== undefined && !isConnectionError(err);
      return failed(refused ? `refused (${describeFailure(err)})` : describeFailure(err), refused);
    }
    this.transaction(() => {
      monitor.promoted(from, to, forkLsn);
      this.recordFailover(from, to, at, reason, automatic);
    });
    const followers = monitor.state.nodes.filter((n) => n.name !== from && n.name !== to && !n.fenced);
    await this.repoint(
      monitor,
      followers.map((n) => n.name),
    );
    return { result: ok({ from, to, at }), refused: false };
  }

  /**
   * Points replicas at the current primary (as Patroni repoints them). The old primary is left
   * alone: it needs a rebuild. A node that cannot be reached now stays behind and is repointed
   * when a later check finds it (ClusterMonitor's `repoint` decision); failures are logged, never
   * undo a promotion.
   */
  private async repoint(monitor: ClusterMonitor, names: readonly string[]): Promise<void> {
    const primary = monitor.state.primary;
    const source = this.config?.nodes.find((n) => n.name === primary)?.replication;
    if (!source || names.length === 0) return;
    await Promise.all(
      names.map(async (name) => {
        try {
          await this.onNode(name, (sql) => followPrimary(sql, `${source} application_name=${name}`));
          monitor.repointed(name);
        } catch (err) {
          console.warn(`repointing ${name} to ${primary} failed: ${describeFailure(err)}`);
        }
      }),
    );
  }

  private recordFailover(from: string, to: string, at: number, reason: string, automatic: boolean): void {
    this.store.recordFailover({ from, to, at, reason, automatic });
  }

  /** Runs `fn` on a node's connection within the check timeout (or `timeoutMs`). */
  private onNode<T>(
    name: string,
    fn: (sql: PgConnection) => Promise<T>,
    timeoutMs = this.config?.ha.checkTimeoutMs ?? 2_000,
  ): Promise<T> {
    return this.pools.get(name).use((sql) => withTimeout(timeoutMs, fn(sql)));
  }

  private unavailable<T>(node: string, err: unknown): Result<T> {
    return fail("unavailable", `database ${node} is unavailable: ${describeFailure(err)}`);
  }

  /** Stores what the monitor concluded; memory is reloaded from storage if that fails. */
  private save(): void {
    this.transaction(() => this.store.saveState(this.monitor?.state ?? null));
  }

  /** Stores the monitor's state and aims the alarm at the next round, as one transaction. */
  private saveStateAndScheduleNextRound(now: number): void {
    this.transaction(() => {
      this.store.saveState(this.monitor?.state ?? null);
      this.scheduleNextRound(now);
    });
  }

  /** Aims the alarm one check interval after `now`. */
  private scheduleNextRound(now: number): void {
    this.alarmTime.aim(now + (this.config?.ha.checkIntervalMs ?? 5_000));
    this.store.saveAlarmAt(this.alarmTime.at as number);
  }
}
