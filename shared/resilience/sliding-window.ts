/**
 * The sliding windows a circuit breaker measures failure rates over: the last N calls, or the
 * calls of the last T milliseconds (in ten buckets, so it slides in steps of T/10 and costs ten
 * counters whatever the traffic). Both serialise to plain JSON, so a Durable Object can store them.
 */

/** An outcome's flags: it failed, it was slow, or both. */
export const FAILED = 1;
export const SLOW = 2;

/** What a window holds. `bad` counts calls that failed or were slow. */
export interface WindowTotals {
  calls: number;
  failures: number;
  slow: number;
  bad: number;
}

/** The last `size` calls, or the calls of the last `ms`. */
export type WindowSpec = { kind: "count"; size: number } | { kind: "time"; ms: number };

/** A window's contents as JSON: outcome flags oldest first, or buckets `[index, calls, failures, slow, bad]`. */
export type WindowSnapshot =
  | { kind: "count"; size: number; flags: number[] }
  | { kind: "time"; ms: number; buckets: Array<[number, number, number, number, number]> };

export interface SlidingWindow {
  /** Adds one outcome (flags from {@link FAILED}, {@link SLOW}) at `now`. */
  add(flags: number, now: number): void;
  /** What the window holds at `now`. */
  totals(now: number): WindowTotals;
  /** Empties the window. */
  reset(): void;
  toJSON(): WindowSnapshot;
}

const emptyTotals = (): WindowTotals => ({ calls: 0, failures: 0, slow: 0, bad: 0 });

function count(t: WindowTotals, flags: number, sign: 1 | -1): void {
  t.calls += sign;
  if (flags & FAILED) t.failures += sign;
  if (flags & SLOW) t.slow += sign;
  if (flags !== 0) t.bad += sign;
}

/** The last `size` calls: a ring of flags with running totals. */
export class CountWindow implements SlidingWindow {
  private readonly ring: Uint8Array;
  private length = 0;
  private next = 0;
  private readonly sums = emptyTotals();

  constructor(size: number) {
    this.ring = new Uint8Array(size);
  }

  add(flags: number): void {
    if (this.length === this.ring.length) count(this.sums, this.ring[this.next] as number, -1);
    else this.length++;
    this.ring[this.next] = flags;
    this.next = (this.next + 1) % this.ring.length;
    count(this.sums, flags, 1);
  }

  totals(): WindowTotals {
    return { ...this.sums };
  }

  reset(): void {
    this.length = 0;
    this.next = 0;
    Object.assign(this.sums, emptyTotals());
  }

  toJSON(): WindowSnapshot {
    const size = this.ring.length;
    const flags: number[] = [];
    for (let i = 0; i < this.length; i++)
      flags.push(this.ring[(this.next - this.length + i + size) % size] as number);
    return { kind: "count", size, flags };
  }
}

const BUCKETS = 10;

/** The calls of the last `ms`, in {@link BUCKETS} buckets of `ms / 10` each. */
export class TimeWindow implements SlidingWindow {
  private readonly width: number;
  private readonly index = new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY);
  private readonly buckets: WindowTotals[] = Array.from({ length: BUCKETS }, emptyTotals);
  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
    this.width = Math.max(1, Math.ceil(ms / BUCKETS));
  }

  add(flags: number, now: number): void {
    const idx = Math.floor(now / this.width);
    const slot = idx % BUCKETS;
    if (this.index[slot] !== idx) {
      this.index[slot] = idx;
      Object.assign(this.buckets[slot] as WindowTotals, emptyTotals());
    }
    count(this.buckets[slot] as WindowTotals, flags, 1);
  }

  totals(now: number): WindowTotals {
    const oldest = Math.floor(now / this.width) - BUCKETS + 1;
    const sum = emptyTotals();
    for (let slot = 0; slot < BUCKETS; slot++) {
      if ((this.index[slot] as number) < oldest) continue;
      const b = this.buckets[slot] as WindowTotals;
      sum.calls += b.calls;
      sum.failures += b.failures;
      sum.slow += b.slow;
      sum.bad += b.bad;
    }
    return sum;
  }

  reset(): void {
    this.index.fill(Number.NEGATIVE_INFINITY);
  }

  toJSON(): WindowSnapshot {
    const buckets: Array<[number, number, number, number, number]> = [];
    for (let slot = 0; slot < BUCKETS; slot++) {
      const idx = this.index[slot] as number;
      const b = this.buckets[slot] as WindowTotals;
      if (Number.isFinite(idx)) buckets.push([idx, b.calls, b.failures, b.slow, b.bad]);
    }
    return { kind: "time", ms: this.ms, buckets: buckets.sort((a, b) => a[0] - b[0]) };
  }

  /** Puts back buckets from a snapshot of a window of the same length. */
  restore(buckets: WindowSnapshot & { kind: "time" }): void {
    for (const [idx, calls, failures, slow, bad] of buckets.buckets) {
      this.index[idx % BUCKETS] = idx;
      this.buckets[idx % BUCKETS] = { calls, failures, slow, bad };
    }
  }
}

/**
 * A window for `spec`, holding the snapshot's contents when it was taken of a window of the
 * same shape (a window of another length starts empty).
 */
export function createWindow(spec: WindowSpec, snapshot?: WindowSnapshot): SlidingWindow {
  if (spec.kind === "count") {
    const w = new CountWindow(spec.size);
    if (snapshot?.kind === "count" && snapshot.size === spec.size) for (const f of snapshot.flags) w.add(f);
    return w;
  }
  const w = new TimeWindow(spec.ms);
  if (snapshot?.kind === "time" && snapshot.ms === spec.ms) w.restore(snapshot);
  return w;
}
