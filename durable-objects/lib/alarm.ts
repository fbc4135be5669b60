/** The one-alarm-per-object pattern: keep the alarm at the earliest due time, or none. */

/**
 * Points the object's alarm at `due` (deletes it for `null`) unless it is already set there;
 * returns the new alarm time for the object to remember and store as `alarm_at`.
 * @example this.alarmAt = pointAlarm(this.ctx.storage, this.alarmAt, next ?? null);
 */
export function pointAlarm(
  storage: DurableObjectStorage,
  current: number | null,
  due: number | null,
): number | null {
  if (due === current) return current;
  if (due === null) void storage.deleteAlarm();
  else void storage.setAlarm(due);
  return due;
}
