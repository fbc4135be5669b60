/**
 * Node-side set-up of the `workers` project: a real webhook receiver on 127.0.0.1 for the bus
 * tests, which cannot listen inside workerd. Each test uses its own path `/hook/<name>`; the
 * test sets how that path answers (`POST /control/<name>` with `{"status", "delayMs"}`) and reads
 * what arrived (`GET /stats/<name>`): the count, the seqs in arrival order, and the most requests
 * it ever held at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  interface ProvidedContext {
    busReceiver: string;
  }
}

interface Hook {
  status: number;
  delayMs: number;
  count: number;
  seqs: number[];
  inFlight: number;
  maxInFlight: number;
}

const hooks = new Map<string, Hook>();

function hook(name: string): Hook {
  let h = hooks.get(name);
  if (!h) {
    h = { status: 200, delayMs: 0, count: 0, seqs: [], inFlight: 0, maxInFlight: 0 };
    hooks.set(name, h);
  }
  return h;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const [, kind, name = ""] = (req.url ?? "").split("/");
  const h = hook(name);
  const text = await body(req);
  if (kind === "hook") {
    h.count++;
    h.inFlight++;
    h.maxInFlight = Math.max(h.maxInFlight, h.inFlight);
    try {
      h.seqs.push((JSON.parse(text) as { seq: number }).seq);
    } catch {
      h.seqs.push(-1);
    }
    if (h.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, h.delayMs));
    h.inFlight--;
    res.writeHead(h.status).end();
    return;
  }
  if (kind === "control") {
    const mode = JSON.parse(text || "{}") as { status?: number; delayMs?: number; resetMax?: boolean };
    if (mode.status !== undefined) h.status = mode.status;
    if (mode.delayMs !== undefined) h.delayMs = mode.delayMs;
    if (mode.resetMax) h.maxInFlight = h.inFlight;
  }
  const { count, seqs, inFlight, maxInFlight } = h;
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ count, seqs, inFlight, maxInFlight }));
}

export default async function setup(project: TestProject) {
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  project.provide("busReceiver", `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
