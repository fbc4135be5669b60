/**
 * The lifecycle every Durable Object shares: SQLite behind the typed helper, the schema brought up
 * to date and memory loaded once at start-up, the object's own name, and operations that run as one
 * storage transaction and put memory back as storage has it when they throw.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { type Clock, systemClock } from "../../shared/resilience/clock.ts";
import { migrate, Sql, startUp } from "./sql.ts";

export abstract class SqlObject extends DurableObject<Env> {
  protected readonly sql: Sql;
  /** Start-up (migrations, then {@link load}); every entry point awaits it first. */
  protected readonly ready: Promise<void>;
  /**
   * The object's time and timers. Every instant the object stores or compares comes from here, so
   * a test can move time with a `ManualClock` (set through `runInDurableObject`) instead of waiting.
   */
  clock: Clock = systemClock;

  constructor(ctx: DurableObjectState, env: Env, schema: readonly string[]) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    // Input waits from here on; the set-up itself runs a microtask later, once the subclass's
    // constructor has set its fields, so that `load` fills them rather than being overwritten.
    this.ready = startUp(ctx, async () => {
      await Promise.resolve();
      migrate(this.sql, schema);
      this.load();
      this.onStart();
    });
  }

  /** The name the object was reached by (`getByName`); "" for an object made from a random id. */
  protected get name(): string {
    return this.ctx.id.name ?? "";
  }

  /**
   * Reads the object's in-memory view from storage: at start-up, and after a transaction threw
   * (see {@link transaction}). An object that keeps nothing in memory reads nothing.
   */
  protected load(): void {}

  /**
   * One-off work once the first {@link load} is done: what a restart calls for and a reload after
   * a failed transaction must not repeat (retrying attempts a restart cut short, aiming the alarm).
   */
  protected onStart(): void {}

  /**
   * Runs `op` as one storage transaction. If it throws, storage rolls back and memory is reloaded
   * from it, so the two never disagree; the error goes on to the caller.
   */
  protected transaction<T>(op: () => T): T {
    try {
      return this.ctx.storage.transactionSync(op);
    } catch (err) {
      this.load();
      throw err;
    }
  }
}
