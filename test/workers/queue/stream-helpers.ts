/** Streaming consumers for the queue tests: real WebSockets through the Worker's own fetch. */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { LeasedTask } from "../../../shared/schemas/queue.ts";
import type { ServerMessage } from "../../../shared/schemas/queue-stream.ts";
import { TOKEN } from "../helpers.ts";

/** A received message: what the server pushes (the contract's type). */
export type Message = ServerMessage;

/** A message of one type. */
export type MessageOf<T extends Message["type"]> = Extract<Message, { type: T }>;

/** Fails the test unless `message` is of `type`; the test then reads it as one. */
export function expectMessage<T extends Message["type"]>(
  message: Message | undefined,
  type: T,
): asserts message is MessageOf<T> {
  expect(message?.type, JSON.stringify(message)).toBe(type);
}

export interface Consumer {
  ws: WebSocket;
  /** Every message received, in order. */
  messages: Message[];
  /** Tasks pushed and not yet taken off with {@link Consumer.settle}, by id. */
  held: Map<string, LeasedTask>;
  /** Every task ever pushed, in order. */
  pushed: LeasedTask[];
  /** Resolves when `test` holds for the messages (fails after a deadline). */
  until(test: () => boolean, what?: string, timeoutMs?: number): Promise<void>;
  /** The next answer (a message that is not a push) after the ones already taken. */
  answer(timeoutMs?: number): Promise<Message>;
  send(value: unknown): void;
  /** Acks the given held tasks (all by default) in one message; resolves with the answer. */
  ack(ids?: string[]): Promise<MessageOf<"acked">>;
  /** Forgets held tasks locally (after an ack or nack elsewhere). */
  settle(ids: string[]): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens `GET /v1/queues/{queue}/consume?{query}`; expects 101. */
export async function consumer(
  queue: string,
  query: Record<string, string | number> = {},
): Promise<Consumer> {
  const res = await upgrade(queue, query);
  if (res.status !== 101) throw new Error(`upgrade answered ${res.status}: ${await res.text()}`);
  const ws = res.webSocket as WebSocket;
  ws.accept();
  const messages: Message[] = [];
  const held = new Map<string, LeasedTask>();
  const pushed: LeasedTask[] = [];
  let answered = 0;
  let wake = () => {};
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    messages.push(m);
    if (m.type === "tasks") {
      for (const t of m.tasks as LeasedTask[]) {
        held.set(t.id, t);
        pushed.push(t);
      }
    }
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (e) => {
      resolve({ code: e.code, reason: e.reason });
      wake();
    });
  });
  const until = async (test: () => boolean, what = "condition", timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 20);
      });
    }
  };
  const answers = () => messages.filter((m) => m.type !== "tasks");
  const c: Consumer = {
    ws,
    messages,
    held,
    pushed,
    until,
    async answer(timeoutMs) {
      await until(() => answers().length > answered, "an answer", timeoutMs);
      const answer = answers()[answered++];
      if (answer === undefined) throw new Error("no answer");
      return answer;
    },
    send: (value) => ws.send(typeof value === "string" ? value : JSON.stringify(value)),
    async ack(ids = [...held.keys()]) {
      const acks = ids.map((id) => ({ id, leaseId: (held.get(id) as LeasedTask).leaseId }));
      c.settle(ids);
      c.send({ type: "ack", acks });
      const answer = await c.answer();
      expectMessage(answer, "acked");
      return answer;
    },
    settle(ids) {
      for (const id of ids) held.delete(id);
    },
    closed,
    close: () => ws.close(1000, "done"),
  };
  return c;
}

/** The upgrade request's response, whatever its status. */
export function upgrade(
  queue: string,
  query: Record<string, string | number> = {},
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
): Promise<Response> {
  const url = new URL(`http://localhost/v1/queues/${queue}/consume`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  return exports.default.fetch(new Request(url, { headers: { upgrade: "websocket", ...headers } }));
}
