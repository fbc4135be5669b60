/**
 * What a relay forwards to an object, paced by what the object has taken. An object takes each
 * client frame as one event, run one at a time with its other callers' requests: a relay that
 * forwarded a flood of well-formed frames at once would queue every other caller behind all of
 * them (20,000 acks held publishes up to 8.5 s, docs/limits.md). So at most
 * {@link MAX_IN_FLIGHT} frames are with the object at a time; the rest wait here, in order, up to
 * {@link MAX_WAITING_CHARS} of text, and a client that sends more than that is closed.
 */

/** Frames forwarded and not yet answered (or receipted): other callers wait behind at most these. */
export const MAX_IN_FLIGHT = 4;

/** Text waiting to be forwarded, per socket; beyond it the relay closes the client's socket. */
export const MAX_WAITING_CHARS = 4 * 1024 * 1024;

/** Runs `refill` later, after whatever else is ready to run (a timer, in the relay). */
export type Later = (refill: () => void) => void;

export class ForwardWindow {
  readonly #send: (text: string) => void;
  readonly #later: Later;
  readonly #waiting: string[] = [];
  #inFlight = 0;
  #waitingChars = 0;
  #refilling = false;

  /**
   * `later` defers forwarding what waits: a frame taken does not send the next at once, so that a
   * flood drains in turns with the runtime's other work (in one process, `wrangler dev`, an
   * unbroken chain of relay and object events kept the runtime from reading any other request).
   */
  constructor(send: (text: string) => void, later: Later = (refill) => setTimeout(refill, 0)) {
    this.#send = send;
    this.#later = later;
  }

  /** Forwards `text` now, or queues it behind the frames in flight; false when the queue is full. */
  forward(text: string): boolean {
    if (this.#waiting.length === 0 && this.#inFlight < MAX_IN_FLIGHT) {
      this.#inFlight++;
      this.#send(text);
      return true;
    }
    if (this.#waitingChars + text.length > MAX_WAITING_CHARS) return false;
    this.#waiting.push(text);
    this.#waitingChars += text.length;
    return true;
  }

  /** The object took a frame (answered it, or sent a receipt): what waits goes on, in turn. */
  taken(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#waiting.length === 0 || this.#refilling) return;
    this.#refilling = true;
    this.#later(() => {
      this.#refilling = false;
      while (this.#inFlight < MAX_IN_FLIGHT) {
        const next = this.#waiting.shift();
        if (next === undefined) return;
        this.#waitingChars -= next.length;
        this.#inFlight++;
        this.#send(next);
      }
    });
  }
}
