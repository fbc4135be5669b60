/** The real webhook receiver the `workers` project's set-up starts (test/workers-setup/bus-receiver.ts). */
import { inject } from "vitest";

declare module "vitest" {
  interface ProvidedContext {
    busReceiver: string;
  }
}

export interface HookStats {
  count: number;
  /** Seqs in arrival order. */
  seqs: number[];
  /** Requests the receiver holds now. */
  inFlight: number;
  /** The most requests the receiver held at once (since the last `resetMax`). */
  maxInFlight: number;
}

/** One receiver path of the real receiver, for one test. */
export class RealHook {
  readonly url: string;
  private readonly control: string;
  private readonly stats: string;

  constructor(name: string) {
    const base = inject("busReceiver");
    this.url = `${base}/hook/${name}`;
    this.control = `${base}/control/${name}`;
    this.stats = `${base}/stats/${name}`;
  }

  /** Sets how the path answers from now on. */
  async answer(mode: { status?: number; delayMs?: number; resetMax?: boolean }): Promise<HookStats> {
    return (await fetch(this.control, { method: "POST", body: JSON.stringify(mode) })).json();
  }

  async seen(): Promise<HookStats> {
    return (await fetch(this.stats)).json();
  }
}
