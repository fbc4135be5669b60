/**
 * The resident memory and CPU time of the workerd processes this process started (`wrangler dev`'s
 * runtime), read from /proc: what an attacker's request makes the local runtime hold, and what a
 * benchmark row costs it.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

function processes(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      found.push({ pid: Number(entry), ppid, comm });
    } catch {
      // Gone while listing.
    }
  }
  return found;
}

/** The workerd processes descended from this one. */
export function runtimePids(root = process.pid): number[] {
  const all = processes();
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const pids: number[] = [];
  const stack = [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    for (const child of children.get(pid) ?? []) {
      if (child.comm === "workerd") pids.push(child.pid);
      stack.push(child.pid);
    }
  }
  return pids;
}

/** CPU seconds (user + system) `pids` have used together. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited.
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux.
}

/** Resident bytes (VmRSS) of `pids` together. */
export function residentBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const kb = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m)?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // Exited.
    }
  }
  return total;
}

/**
 * Samples the runtime's resident memory every `everyMs` while `work` runs; returns the peak. The
 * processes are looked up again at every sample: the dev server may start another workerd while
 * a request is under way (seen here), and that one holds what the request costs.
 */
export async function peakResidentDuring<T>(
  work: () => Promise<T>,
  everyMs = 20,
): Promise<{ value: T; peak: number; before: number }> {
  const sample = () => residentBytes(runtimePids());
  const before = sample();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, everyMs);
  try {
    const value = await work();
    peak = Math.max(peak, sample());
    return { value, peak, before };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Streams `total` bytes of a JSON string value to `url` with chunked transfer encoding (no
 * Content-Length) and returns the answer's status, or `"reset"` when the server closed the
 * connection mid-body; the body is made as it is sent, so the client itself holds one chunk.
 */
export async function streamBody(url: string, token: string, total: number): Promise<number | "reset"> {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) controller.enqueue(new TextEncoder().encode('{"value":"'));
      if (sent >= total) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  try {
    const res = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit & { duplex: "half" });
    const text = await res.text();
    // wrangler dev's own proxy (not the Worker) answers 500 "Network connection lost" in plain text
    // when the Worker refused the body and cancelled it while the proxy was still forwarding it:
    // the same outcome as a reset. The Worker's own errors are JSON in the contract's shape.
    if (res.status === 500 && !text.startsWith("{") && /Network connection lost/.test(text)) return "reset";
    return res.status;
  } catch (err) {
    // A server that refuses a body may close the connection while the client is still sending it.
    if (sent > 1024 * 1024 && /ECONNRESET|EPIPE|UND_ERR_SOCKET/.test(errorCodes(err))) return "reset";
    throw err;
  }
}

function errorCodes(err: unknown): string {
  const codes: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string") codes.push(e.code);
  }
  return codes.join(" ");
}
