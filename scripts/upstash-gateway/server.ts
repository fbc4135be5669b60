/**
 * A local Upstash-compatible REST gateway over a real Redis, for tests, `npm run dev` and the
 * benchmark. It speaks what `@upstash/redis` 1.39 sends (read from its `pkg/http.ts`):
 * - `POST /` with a JSON command array → `{"result"}`, or `400 {"error"}` with Redis's own error text
 *   (the script helper falls back from `EVALSHA` on the word `NOSCRIPT` in it);
 * - `POST /pipeline` with an array of commands → `[{"result"} | {"error"}, ...]` (not atomic);
 * - `POST /multi-exec` → the same array, from one `MULTI`/`EXEC`; a command refused while queueing
 *   aborts the whole transaction with `400 {"error": "EXECABORT ..."}`;
 * - `Authorization: Bearer <token>` (else `401`);
 * - `Upstash-Encoding: base64`: every string in the result, nested arrays included, is base64 of
 *   its bytes (the client's `decode()` base64-decodes every string except a bare `"OK"`, and
 *   keeps numbers and nulls), otherwise strings are UTF-8 text;
 * - an `upstash-sync-token` header on every answer (the client echoes it for read-your-writes; one
 *   Redis has nothing to catch up, so any increasing token is right).
 *
 * Faults for tests (also over HTTP at `/__gateway/faults`, same token): `dropAnswers` drops the
 * next n answers after Redis applied their commands (the socket is destroyed, as a lost answer),
 * optionally only for requests naming `dropCommand`; `down` answers `503` without touching Redis.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
// The default export (module.exports, the class) is what both Node and Vite's loader resolve alike.
import Redis from "ioredis";

/** Where the gateway listens and what it forwards to. */
export interface GatewayOptions {
  /** The Redis to forward to, e.g. `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** The bearer token clients must send. */
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

/** The fault switches; change them in place or with `POST /__gateway/faults`. */
export interface Faults {
  /** Answers still to drop after their commands were applied. */
  dropAnswers: number;
  /** Only requests with this command (case-insensitive) count towards `dropAnswers`. */
  dropCommand: string | null;
  /** Answer every command request `503` without forwarding it: Redis unreachable. */
  down: boolean;
}

/** What the gateway has done, for tests. */
export interface GatewayCounters {
  requests: number;
  dropped: number;
  refused: number;
}

export interface Gateway {
  /** The base URL to give `@upstash/redis` as `url`. */
  readonly url: string;
  readonly token: string;
  readonly faults: Faults;
  readonly counters: GatewayCounters;
  close(): Promise<void>;
}

/** A command argument as the client serialises it. */
type Arg = string | number | boolean;

/** A Redis reply as ioredis returns it with `callBuffer`. */
type Reply = Buffer | string | number | null | Error | Reply[];

/** An answer item: `{"result"}` or `{"error"}`. */
type Answer = { result: unknown } | { error: string };

/** Largest request body accepted (Upstash's own limit is larger; this only bounds memory). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Commands that may block the connection: each gets a connection of its own. */
const BLOCKING = new Set([
  "blpop",
  "brpop",
  "blmove",
  "brpoplpush",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
]);

/** Commands that need a connection's state (or hold it) and cannot run on the shared one. */
const REFUSED = new Set([
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "monitor",
  "select",
  "quit",
  "reset",
  "hello",
  "client",
]);

/** Whether a command may block its connection (XREAD and XREADGROUP only with BLOCK). */
function blocks(command: string[]): boolean {
  const name = (command[0] as string).toLowerCase();
  if (name === "xread" || name === "xreadgroup") return command.some((a) => a.toUpperCase() === "BLOCK");
  return BLOCKING.has(name);
}

const refused = (command: string[]) => REFUSED.has((command[0] as string).toLowerCase());

class BadRequest extends Error {}

/** Starts a gateway; resolves once it listens. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  // RESP2, as Upstash answers; no re-sending after a reconnect (a client retries, not the gateway).
  const redis = new Redis(options.redisUrl, {
    protocol: 2,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
  });
  redis.on("error", () => undefined);
  const faults: Faults = { dropAnswers: 0, dropCommand: null, down: false };
  const counters: GatewayCounters = { requests: 0, dropped: 0, refused: 0 };
  let syncToken = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("upstash-sync-token", String(++syncToken));
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      return send(res, 401, { error: "Unauthorized" });
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/__gateway/faults") return controlFaults(req, res);
    const sub = /^\/(subscribe|psubscribe)\/(.+)$/.exec(path ?? "");
    if (sub) return subscribe(sub[1] === "psubscribe", decodeURIComponent(sub[2] as string).split("/"), res);
    if (req.method !== "POST") return send(res, 405, { error: "ERR only POST is supported" });
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString("utf8"));
    } catch (err) {
      const tooLarge = err instanceof BadRequest;
      return send(res, tooLarge ? 413 : 400, {
        error: tooLarge ? err.message : "ERR failed to parse the request body as JSON",
      });
    }
    try {
      if (path === "/" || path === "") {
        const command = toCommand(body);
        counters.requests++;
        if (faults.down) return refuse(res);
        const answer = await runOne(command);
        if (dropped([command])) return drop(res);
        if ("error" in answer) return send(res, 400, answer);
        return send(res, 200, { result: encode(answer.result, base64) });
      }
      if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(body) || body.length === 0)
          throw new BadRequest("ERR expected an array of commands");
        const commands = body.map(toCommand);
        counters.requests++;
        if (faults.down) return refuse(res);
        const answers = path === "/pipeline" ? await runPipeline(commands) : await runMulti(commands);
        if (dropped(commands)) return drop(res);
        if (!Array.isArray(answers)) return send(res, 400, answers);
        return send(
          res,
          200,
          answers.map((a) => ("error" in a ? a : { result: encode(a.result, base64) })),
        );
      }
      return send(res, 404, { error: `ERR unknown path ${path}` });
    } catch (err) {
      if (err instanceof BadRequest) return send(res, 400, { error: err.message });
      throw err;
    }
  }

  function dropped(commands: string[][]): boolean {
    if (faults.dropAnswers <= 0) return false;
    const wanted = faults.dropCommand?.toLowerCase();
    if (wanted && !commands.some((c) => c[0]?.toLowerCase() === wanted)) return false;
    faults.dropAnswers--;
    return true;
  }

  function drop(res: ServerResponse): void {
    counters.dropped++;
    res.socket?.destroy();
  }

  function refuse(res: ServerResponse): void {
    counters.refused++;
    // Not a Redis error reply (no error code): the gateway answers for a Redis it cannot reach.
    send(res, 503, { error: "Redis is unreachable (gateway fault switch)" });
  }

  async function controlFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "POST") {
      let patch: Partial<Faults>;
      try {
        patch = JSON.parse((await readBody(req)).toString("utf8") || "{}") as Partial<Faults>;
      } catch {
        return send(res, 400, { error: "ERR the faults body is not JSON" });
      }
      if (typeof patch.dropAnswers === "number") faults.dropAnswers = patch.dropAnswers;
      if (patch.dropCommand !== undefined) faults.dropCommand = patch.dropCommand;
      if (typeof patch.down === "boolean") faults.down = patch.down;
    }
    send(res, 200, { faults, counters });
  }

  /**
   * `POST /subscribe/<channel>` (or `/psubscribe/<pattern>`) as the client's `subscribe()` sends it:
   * a server-sent event stream of `data: subscribe,<channel>,<count>` and then
   * `data: message,<channel>,<text>` (`pmessage,<pattern>,<channel>,<text>`), unencoded, until the
   * client goes away.
   */
  async function subscribe(pattern: boolean, channels: string[], res: ServerResponse): Promise<void> {
    const conn = redis.duplicate();
    conn.on("error", () => undefined);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const line = (parts: (string | number)[]) => res.write(`data: ${parts.join(",")}\n\n`);
    conn.on("message", (channel: string, message: string) => line(["message", channel, message]));
    conn.on("pmessage", (p: string, channel: string, message: string) =>
      line(["pmessage", p, channel, message]),
    );
    res.on("close", () => conn.disconnect());
    const count = pattern ? await conn.psubscribe(...channels) : await conn.subscribe(...channels);
    for (const c of channels) line([pattern ? "psubscribe" : "subscribe", c, count as number]);
  }

  async function runOne(command: string[]): Promise<Answer> {
    const [name, ...args] = command as [string, ...string[]];
    if (refused(command)) return { error: `ERR ${name} is not supported over REST` };
    const conn = blocks(command) ? redis.duplicate() : redis;
    try {
      return { result: await conn.callBuffer(name, ...args) };
    } catch (err) {
      return { error: errorText(err) };
    } finally {
      if (conn !== redis) conn.disconnect();
    }
  }

  async function runPipeline(commands: string[][]): Promise<Answer[]> {
    const bad = commands.find(refused);
    if (bad) return commands.map(() => ({ error: `ERR ${bad[0]} is not supported in a pipeline` }));
    // A blocking command would hold up everyone else's commands on the shared connection.
    const conn = commands.some(blocks) ? redis.duplicate() : redis;
    try {
      const pipeline = conn.pipeline();
      for (const [name, ...args] of commands) pipeline.callBuffer(name as string, ...args);
      return toAnswers((await pipeline.exec()) ?? []);
    } finally {
      if (conn !== redis) conn.disconnect();
    }
  }

  async function runMulti(commands: string[][]): Promise<Answer[] | { error: string }> {
    const bad = commands.find(refused);
    if (bad) return { error: `ERR ${bad[0]} is not supported in a transaction` };
    const tx = redis.multi();
    for (const [name, ...args] of commands) tx.callBuffer(name as string, ...args);
    try {
      const results = await tx.exec();
      // EXEC answers nil when a WATCH failed; none can be set here, but say so rather than crash.
      if (results === null) return { error: "EXECABORT the transaction was discarded" };
      return toAnswers(results);
    } catch (err) {
      return { error: errorText(err) };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    token: options.token,
    faults,
    counters,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

/**
 * One command from the JSON body: a non-empty array of strings, numbers or booleans. The name is
 * upper-cased: ioredis keys its reply transformers (HGETALL into an object, XREAD into pairs) by the
 * lower-case name, and the REST answer must be Redis's own reply.
 */
function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR a command is a non-empty array");
  return value.map((v: unknown, i) => {
    if (i === 0 && typeof v === "string") return v.toUpperCase();
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v as Arg);
    throw new BadRequest("ERR command arguments must be strings, numbers or booleans");
  });
}

function toAnswers(results: [Error | null, unknown][]): Answer[] {
  return results.map(([err, result]) => (err ? { error: errorText(err) } : { result }));
}

/** Redis's own error text (`NOSCRIPT No matching script...`), without ioredis's additions. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.message.split("\n")[0] ?? err.message;
}

/** A reply as the REST answer carries it: bytes as base64 or UTF-8 text, recursively. */
function encode(reply: unknown, base64: boolean): unknown {
  const r = reply as Reply;
  if (r === null || r === undefined) return null;
  if (typeof r === "number") return r;
  if (Buffer.isBuffer(r)) return base64 ? r.toString("base64") : r.toString("utf8");
  if (typeof r === "string") return base64 ? Buffer.from(r, "utf8").toString("base64") : r;
  if (r instanceof Error) return errorText(r);
  if (Array.isArray(r)) return r.map((v) => encode(v, base64));
  return r;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest("ERR request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
