/**
 * The flooding client of bench/hostile.ts's flood row, on a thread of its own: its synchronous
 * bursts of sends (tens of ms each) would otherwise hold up the event loop that times the
 * publishes, and count as the server's latency. One subscriber socket at a time sends `frames`
 * frames, each `frame` with `{i}` replaced by its number (junk, or well-formed acks of nothing);
 * when the server closes it, the next connects and floods again, until
 * the parent posts "stop"; then the thread posts its {@link FloodSeen} and ends. Like an abusive
 * client it ignores `Retry-After`: an upgrade refused during its cool-down is tried again at once.
 */
import { parentPort, workerData } from "node:worker_threads";

/** What the flooder did. */
export interface FloodSeen {
  sockets: number;
  frames: number;
  closedPolicy: number;
  /** Upgrades answered without a socket (429 during the cool-down). */
  refused: number;
}

const { url, frames, frame } = workerData as { url: string; frames: number; frame: string };
const seen: FloodSeen = { sockets: 0, frames: 0, closedPolicy: 0, refused: 0 };
let stopped = false;
let current: WebSocket | undefined;

const one = () =>
  new Promise<void>((resolve) => {
    const ws = new WebSocket(url);
    current = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      seen.sockets += 1;
      for (let i = 0; i < frames && ws.readyState === WebSocket.OPEN; i++) {
        ws.send(frame.replace("{i}", String(i)));
        seen.frames += 1;
      }
    });
    ws.addEventListener("close", (e) => {
      if (e.code === 1008) seen.closedPolicy += 1;
      resolve();
    });
    ws.addEventListener("error", () => {
      if (!opened) seen.refused += 1;
      resolve();
    });
  });

parentPort?.on("message", () => {
  stopped = true;
  current?.close();
});
while (!stopped) await one();
parentPort?.postMessage(seen);
parentPort?.close();
