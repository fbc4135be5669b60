/**
 * Cool-downs against connection churn: a caller whose socket was closed `1008` for bad messages
 * (socket-strikes.ts) a second time waits before its next one, {@link FIRST_COOLDOWN_MS} at first,
 * doubling on each repeat up to {@link MAX_COOLDOWN_MS}, and starts over once it has been quiet for
 * {@link FORGET_AFTER_MS} after its last cool-down ended. The first close costs nothing more: a
 * client that reconnects and behaves (a bug fixed by a reload, a test of the close) is let in at
 * once, and a flooder pays one more flood (about 0.2 s of the Worker's time) before it cools down.
 */
import type { Clock } from "../../shared/resilience/clock.ts";

/** The first cool-down, after a caller's second close. */
export const FIRST_COOLDOWN_MS = 10_000;
/** The longest: each repeat doubles the last, up to this. */
export const MAX_COOLDOWN_MS = 300_000;
/** A caller with no `1008` for this long after its cool-down ended starts over at the first. */
export const FORGET_AFTER_MS = 600_000;
/** Callers remembered per isolate; past this the oldest is forgotten (memory stays bounded). */
export const MAX_REMEMBERED = 10_000;

interface Penalty {
  /** `1008`s since the caller was last forgotten. */
  strikes: number;
  /** When the cool-down ends. */
  until: number;
}

/** The cool-downs of one isolate, on a clock. */
export class SocketCooldowns {
  private readonly penalties = new Map<string, Penalty>();
  private readonly clock: Pick<Clock, "now">;

  constructor(clock: Pick<Clock, "now">) {
    this.clock = clock;
  }

  /** Milliseconds left of `caller`'s cool-down, or 0 when it may open a socket. */
  remainingMs(caller: string): number {
    const penalty = this.current(caller);
    return penalty ? Math.max(0, penalty.until - this.clock.now()) : 0;
  }

  /** Counts a close of `caller`'s socket for bad frames, and starts its cool-down from the second. */
  penalize(caller: string): void {
    const strikes = (this.current(caller)?.strikes ?? 0) + 1;
    const ms = strikes === 1 ? 0 : Math.min(FIRST_COOLDOWN_MS * 2 ** (strikes - 2), MAX_COOLDOWN_MS);
    // Deleted first, so that the map's order is the order of last penalties: the oldest goes first.
    this.penalties.delete(caller);
    this.penalties.set(caller, { strikes, until: this.clock.now() + ms });
    if (this.penalties.size > MAX_REMEMBERED) this.forgetOldest();
  }

  /** The caller's penalty, unless it has been quiet long enough to be forgotten. */
  private current(caller: string): Penalty | undefined {
    const penalty = this.penalties.get(caller);
    if (penalty && this.clock.now() - penalty.until >= FORGET_AFTER_MS) {
      this.penalties.delete(caller);
      return undefined;
    }
    return penalty;
  }

  private forgetOldest(): void {
    const oldest = this.penalties.keys().next();
    if (!oldest.done) this.penalties.delete(oldest.value);
  }
}
