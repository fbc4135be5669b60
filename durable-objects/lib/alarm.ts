/**
 * The one-alarm-per-object pattern: one alarm serves every due time the object has, set at the
 * earliest of them. {@link ObjectAlarm} remembers where it stands; the object stores that time
 * with its other counters (as `alarm_at`) and hands it back to {@link ObjectAlarm.restore} on load.
 */
export class ObjectAlarm {
  private readonly storage: DurableObjectStorage;
  private readonly now: () => number;
  /** When the alarm is set for, as last written; null when none is set. */
  at: number | null = null;

  /** `now` is the object's clock (see `SqlObject.clock`). */
  constructor(storage: DurableObjectStorage, now: () => number) {
    this.storage = storage;
    this.now = now;
  }

  /** Takes the stored time back (at start-up, or after a failed transaction). */
  restore(at: number | null): void {
    this.at = at;
  }

  /**
   * The instant a ringing alarm stands for: the time it was set for, not the wall clock (an alarm
   * may ring late, never early, and `runDurableObjectAlarm` rings it ahead of time in tests).
   * The alarm is spent: it is forgotten here, and the object aims it again.
   */
  ring(): number {
    const now = Math.max(this.now(), this.at ?? 0);
    this.at = null;
    return now;
  }

  /**
   * Points the alarm at `due` (deletes it for `null`) unless it stands there already; returns
   * whether it moved, so the object writes the new time only then.
   * @example if (this.alarm.aim(this.semaphore.nextExpiry() ?? null)) this.store.saveAlarmAt(this.alarm.at);
   */
  aim(due: number | null): boolean {
    if (due === this.at) return false;
    if (due === null) void this.storage.deleteAlarm();
    else void this.storage.setAlarm(due);
    this.at = due;
    return true;
  }

  /**
   * Brings the alarm forward to `due` when that is earlier than where it stands (or none is set);
   * never moves it later. An alarm left early rings, finds less to do and is aimed again: that
   * spares a write each time work goes away. Returns whether it moved.
   */
  bringForward(due: number | null): boolean {
    if (due === null || (this.at !== null && this.at <= due)) return false;
    return this.aim(due);
  }
}
