/**
 * Issue 22's memory rows against `wrangler dev`: a huge chunked body and four concurrent 64 MiB
 * bodies are refused at 1 MiB while the runtime's resident memory stays flat (read from /proc).
 */
import { describe, expect, it } from "vitest";
import { peakResidentDuring, runtimePids, streamBody } from "../../../bench/lib/runtime-memory.ts";
import { TOKEN, workerForFile } from "../bus/worker.ts";

const MiB = 1024 * 1024;
/** The benchmark's bound on growth while bodies stream in (issue 22). */
const FLAT = 96 * MiB;

/**
 * The 413, or a connection the Worker closed at the cut-off while the client was still sending
 * (the client's write then fails before it reads the answer).
 */
const REFUSED = [413, "reset"];

const worker = workerForFile();

describe("the runtime's memory under huge bodies", () => {
  it("refuses a 400 MiB chunked body with no Content-Length at 1 MiB, without holding it", async () => {
    expect(runtimePids().length).toBeGreaterThan(0);
    const url = `${worker.current.baseUrl}/v1/state/mem/k`;
    // Warm the route so the isolate's own start is not counted.
    expect(await streamBody(url, TOKEN, 1024)).toBe(200);
    const run = await peakResidentDuring(() => streamBody(url, TOKEN, 400 * MiB));
    expect(REFUSED).toContain(run.value);
    console.log(`GROWTH ${((run.peak - run.before) / MiB).toFixed(1)} MiB`);
    expect(run.peak - run.before).toBeLessThan(FLAT);
  }, 120_000);

  it("stays flat while 4 clients each stream 64 MiB at once", async () => {
    const base = worker.current.baseUrl;
    const run = await peakResidentDuring(() =>
      Promise.all([0, 1, 2, 3].map((i) => streamBody(`${base}/v1/state/mem/c${i}`, TOKEN, 64 * MiB))),
    );
    for (const answer of run.value) expect(REFUSED).toContain(answer);
    console.log(`GROWTH ${((run.peak - run.before) / MiB).toFixed(1)} MiB`);
    expect(run.peak - run.before).toBeLessThan(FLAT);
  }, 120_000);
});
