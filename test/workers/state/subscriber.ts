/** A real WebSocket subscriber through the Worker's own fetch, collecting messages for assertions. */
import { exports } from "cloudflare:workers";
import type { StateMessage } from "../../../shared/schemas/state.ts";
import { TOKEN } from "../helpers.ts";

export interface Subscriber {
  messages: StateMessage[];
  /** Resolves once `count` messages have arrived (fails after a deadline). */
  received(count: number, timeoutMs?: number): Promise<StateMessage[]>;
  close(): void;
}

/** Opens `GET /v1/state/{ns}/subscribe?{query}` with `Upgrade: websocket`. */
export async function subscribe(ns: string, query: Record<string, string> = {}): Promise<Subscriber> {
  const url = new URL(`http://localhost/v1/state/${ns}/subscribe`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (!("token" in query)) headers.authorization = `Bearer ${TOKEN}`;
  const res = await exports.default.fetch(new Request(url, { headers }));
  const ws = res.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
  ws.accept();
  const messages: StateMessage[] = [];
  let wake = () => {};
  ws.addEventListener("message", (event) => {
    messages.push(JSON.parse(String(event.data)));
    wake();
  });
  return {
    messages,
    async received(count, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`got ${messages.length} of ${count} messages`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return messages.slice(0, count);
    },
    close: () => ws.close(1000, "done"),
  };
}
