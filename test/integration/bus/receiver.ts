/**
 * A real webhook receiver on 127.0.0.1: records every request with its arrival time and answers
 * with the status the test chooses. It can go down (stop listening) and come back on the same port.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface Arrival {
  at: number;
  headers: Record<string, string>;
  body: string;
  event: { id: string; seq: number; type: string; critical: boolean };
  status: number;
}

export class Receiver {
  readonly arrivals: Arrival[] = [];
  /** Decides each answer; `n` counts requests from 0. */
  answer: (n: number, arrival: Omit<Arrival, "status">) => number = () => 200;
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Successful arrivals (2xx answers). */
  get delivered(): Arrival[] {
    return this.arrivals.filter((a) => a.status < 300);
  }

  async start(): Promise<void> {
    const server = createServer(async (req, res) => {
      const body = await read(req);
      const arrival = {
        at: Date.now(),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body,
        event: JSON.parse(body),
      };
      const status = this.answer(this.arrivals.length, arrival);
      this.arrivals.push({ ...arrival, status });
      res.writeHead(status).end();
    });
    server.listen(this.port, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address && typeof address !== "string") this.port = address.port;
    this.server = server;
  }

  /** Stops listening: senders get connection refused until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
