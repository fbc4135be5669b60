/** The one list of priorities, shared by queue tasks and bus events. */

/** Priorities, lowest first: a priority's index is its rank (`low` 0 … `critical` 3). */
export const PRIORITIES = ["low", "normal", "high", "critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** The same priorities most urgent first, the order events are dispatched in and documented. */
export const BY_URGENCY: readonly Priority[] = [...PRIORITIES].reverse();
