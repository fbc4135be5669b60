/**
 * A relayed client's answers in the order of its messages, when the relay answers some messages
 * itself (bad ones) and forwards others to an object that answers each of them, in order. Without
 * this a bad message's answer would overtake the answers the object still owes.
 */
export class AnswerOrder {
  /** Each message not yet answered, oldest first: the relay's answer, or undefined while the object's is owed. */
  private readonly owed: (string | undefined)[] = [];
  private whenSettled: (() => void) | undefined;
  private readonly send: (answer: string) => void;

  constructor(send: (answer: string) => void) {
    this.send = send;
  }

  /** Whether every message has been answered. */
  get settled(): boolean {
    return this.owed.length === 0;
  }

  /** A message went on to the object, which owes its answer. */
  forwarded(): void {
    this.owed.push(undefined);
  }

  /** The relay's answer to a message: sent once the answers owed before it are. */
  answer(text: string): void {
    if (this.settled) this.send(text);
    else this.owed.push(text);
  }

  /** The object's answer to the oldest message it owes; the relay's answers behind it follow. */
  objectAnswered(text: string): void {
    this.owed.shift();
    this.send(text);
    while (typeof this.owed[0] === "string") this.send(this.owed.shift() as string);
    if (this.settled) this.whenSettled?.();
  }

  /** Runs `then` once every message has been answered (now, if it has). */
  onceSettled(then: () => void): void {
    if (this.settled) then();
    else this.whenSettled = then;
  }
}
