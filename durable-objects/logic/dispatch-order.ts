/**
 * The order deliveries leave a topic: critical events first, then high, normal and low priority;
 * oldest (lowest `seq`) first within a rank. A topic sends at most `slots` webhook requests at once.
 */

import { BY_URGENCY, type Priority } from "../../shared/schemas/priority.ts";

/** Sort key of an event: 0 (critical) to 3 (low). A critical event ranks first whatever its priority. */
export function dispatchRank(priority: Priority, critical: boolean): number {
  return critical ? 0 : BY_URGENCY.indexOf(priority);
}

/** A delivery waiting to go out. */
export interface DueDelivery {
  subscriptionId: string;
  seq: number;
  rank: number;
}

/** Orders deliveries by rank, then seq, then subscription (a total order, so ties are stable). */
export function compareDispatch(a: DueDelivery, b: DueDelivery): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0;
}

/** Identifies one delivery among those in flight. */
export const deliveryKey = (d: DueDelivery): string => `${d.subscriptionId}:${d.seq}`;

/**
 * Picks what to send now: the first `slots` due deliveries in dispatch order, skipping those
 * already in flight.
 */
export function planDispatch<T extends DueDelivery>(
  due: readonly T[],
  slots: number,
  inFlight: ReadonlySet<string>,
): T[] {
  if (slots <= 0) return [];
  return due
    .filter((d) => !inFlight.has(deliveryKey(d)))
    .sort(compareDispatch)
    .slice(0, slots);
}
