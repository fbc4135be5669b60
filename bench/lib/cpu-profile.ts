/**
 * Where a benchmark row's time goes (`BENCH_PROFILE=1 npm run bench`): a V8 CPU profile of the
 * Worker's isolate (the Worker and all its Durable Objects share it under `wrangler dev`), taken over
 * wrangler's inspector, with each sample's self time charged to the source module it ran in, plus
 * the CPU the whole workerd process and this driver used meanwhile. The isolate's share against
 * workerd's total tells our code from the local runtime's own work (its proxy and asset-router
 * hops, sockets, SQLite outside JS).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds, runtimePids } from "./runtime-memory.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The Chrome DevTools protocol over wrangler's inspector proxy (it wants a local `Origin`). */
class Inspector {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<number, (result: unknown) => void>();
  #next = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
      if (message.id === undefined) return;
      this.#waiting.get(message.id)?.(message.result);
      this.#waiting.delete(message.id);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    // Node's WebSocket (undici) takes headers as an extension of the standard constructor.
    const init = { headers: { Origin: "http://localhost" } } as unknown as string[];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, init);
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", () => reject(new Error("inspector refused the connection")), {
        once: true,
      });
    });
    return new Inspector(ws);
  }

  send<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve as (result: unknown) => void);
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

/** Maps a line of wrangler's bundle to the source module esbuild wrote it from (`// path` headers). */
function moduleLines(bundlePath: string): (line: number) => string {
  const starts: Array<[number, string]> = [];
  readFileSync(bundlePath, "utf8")
    .split("\n")
    .forEach((text, i) => {
      const m = /^\/\/ ((?:node_modules\/)?[\w@./-]+\.(?:[mc]?js|ts))$/.exec(text);
      if (m?.[1]) starts.push([i, m[1]]);
    });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [start, name] = starts[mid] as [number, string];
      if (start <= line) {
        found = name;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*/, "$1 (library)");
  };
}

/** The newest bundle `wrangler dev` wrote under `.wrangler/tmp`. */
function newestBundle(): string {
  const dir = ".wrangler/tmp";
  const dev = readdirSync(dir)
    .filter((d) => d.startsWith("dev-"))
    .map((d) => join(dir, d, "index.js"))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!dev[0]) throw new Error("no wrangler dev bundle under .wrangler/tmp");
  return dev[0];
}

/**
 * The part of the request's journey a module belongs to. Locally one thread runs them all; on
 * Cloudflare the Worker's request path runs in its own isolates, apart from the object.
 */
function categoryOf(module: string): string {
  if (["exec", "toArray", "transactionSync", "durable-objects/lib/sql.ts"].includes(module)) return "SQLite";
  if (module.startsWith("durable-objects/") || module.startsWith("shared/")) return "the object's own JS";
  if (module === "(program)") return "runtime outside JS (program)";
  if (module === "(garbage collector)") return "garbage collector";
  return "the Worker's request path (Hono, zod, guard, body, handler, runtime glue)";
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)} %`;
}

/** A running profile of the Worker's isolate; `stop()` answers the report as text. */
export interface Profiling {
  stop(): Promise<string>;
}

export async function startProfiling(inspectorPort: number, workerPid: number): Promise<Profiling> {
  const inspector = await Inspector.connect(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 250 });
  await inspector.send("Profiler.start");
  const runtime = runtimePids(workerPid);
  const runtimeCpuBefore = cpuSeconds(runtime);
  const driverCpuBefore = process.cpuUsage();
  const started = performance.now();
  return {
    async stop() {
      const { profile } = await inspector.send<{ profile: Profile }>("Profiler.stop");
      inspector.close();
      const wallSeconds = (performance.now() - started) / 1000;
      const runtimeCpu = cpuSeconds(runtime) - runtimeCpuBefore;
      const driver = process.cpuUsage(driverCpuBefore);
      const driverCpu = (driver.user + driver.system) / 1e6;
      return report(profile, { wallSeconds, runtimeCpu, driverCpu });
    },
  };
}

function report(
  profile: Profile,
  cpu: { wallSeconds: number; runtimeCpu: number; driverCpu: number },
): string {
  const moduleOf = moduleLines(newestBundle());
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    total += micros;
    // V8's own buckets: (idle), (program) = the runtime outside JS, (garbage collector).
    const module = frame.url ? moduleOf(frame.lineNumber) : frame.functionName || "(native)";
    byModule.set(module, (byModule.get(module) ?? 0) + micros);
    const fn = `${frame.functionName || "(anonymous)"} @ ${module}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  });
  const busy = total - (byModule.get("(idle)") ?? 0);
  const byCategory = new Map<string, number>();
  for (const [module, micros] of byModule) {
    if (module === "(idle)") continue;
    const category = categoryOf(module);
    byCategory.set(category, (byCategory.get(category) ?? 0) + micros);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .filter(([name]) => name !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([name, micros]) =>
          `    ${percent(micros, busy).padStart(7)}  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`,
      );
  const cores = (s: number) => `${(s / cpu.wallSeconds).toFixed(2)} cores`;
  return [
    `  wall ${cpu.wallSeconds.toFixed(2)} s; workerd process ${cpu.runtimeCpu.toFixed(2)} CPU s (${cores(cpu.runtimeCpu)}), ` +
      `of which the Worker's isolate ran JS or natives for ${(busy / 1e6).toFixed(2)} s (${percent(busy / 1e6, cpu.runtimeCpu)}); ` +
      `this driver ${cpu.driverCpu.toFixed(2)} CPU s (${cores(cpu.driverCpu)})`,
    `  isolate busy ${percent(busy / 1e6, cpu.wallSeconds)} of the wall time; its busy time by part:`,
    ...top(byCategory, 5),
    "  by module (self time):",
    ...top(byModule, 15),
    "  by function:",
    ...top(byFunction, 25),
  ].join("\n");
}
