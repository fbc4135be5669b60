/**
 * How a queue shares ready tasks between its streaming consumers: round-robin between the sockets
 * with credit, each turn at most a fair share of what is ready (but not less than `minTurn`, so a
 * batch is not cut into many small pushes), never more than a socket's credit.
 */

/** Tasks for one socket, in the order they are to be taken. */
export interface PlannedPush {
  /** The socket's index in the list of credits. */
  socket: number;
  count: number;
}

/**
 * The pushes for `ready` tasks between sockets with these `credits`, starting at socket `turn`
 * (the one after the socket served last). Each socket appears at most once; the total is
 * `min(ready, sum of credits)`.
 * @example planPushes([100, 100], 150, 0, 32) // [{socket: 0, count: 75}, {socket: 1, count: 75}]
 */
export function planPushes(
  credits: readonly number[],
  ready: number,
  turn: number,
  minTurn: number,
): PlannedPush[] {
  const n = credits.length;
  const left = credits.map((c) => Math.max(0, c));
  const counts = new Map<number, number>();
  let remaining = Math.max(0, ready);
  let next = n === 0 ? 0 : ((turn % n) + n) % n;
  while (remaining > 0) {
    const hungry: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = (next + k) % n;
      if ((left[i] as number) > 0) hungry.push(i);
    }
    if (hungry.length === 0) break;
    const share = Math.max(minTurn, Math.ceil(remaining / hungry.length));
    for (const i of hungry) {
      const count = Math.min(left[i] as number, share, remaining);
      counts.set(i, (counts.get(i) ?? 0) + count);
      left[i] = (left[i] as number) - count;
      remaining -= count;
      next = (i + 1) % n;
      if (remaining === 0) break;
    }
  }
  return [...counts].map(([socket, count]) => ({ socket, count }));
}
