import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BusClient } from "../../../shared/client/bus.ts";
import type { BusEventValue } from "../../../shared/schemas/bus.ts";
import { type RunningWorker, startWorker, TOKEN, until } from "./worker.ts";

let stateDir: string;
let worker: RunningWorker;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "switchyard-bus-client-"));
  worker = await startWorker(stateDir);
});

afterAll(async () => {
  await worker?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe("the typed client over HTTP", () => {
  it("reconnects after the Worker restarts and resumes after the last seq, without duplicates", async () => {
    const bus = BusClient.http({ baseUrl: worker.baseUrl, token: TOKEN });
    const topic = `client-${Date.now()}`;
    const seen: BusEventValue[] = [];
    let disconnects = 0;
    const sub = bus.subscribe(topic, (e) => void seen.push(e), {
      fromSeq: 1,
      onDisconnect: () => disconnects++,
    });
    await bus.publish(topic, { type: "before", critical: true });
    await until(async () => (seen.length === 1 ? true : undefined), 15_000, "the first event");

    await worker.stop();
    worker = await startWorker(stateDir, worker.port);
    await until(async () => (disconnects > 0 ? true : undefined), 15_000, "the disconnect");
    await bus.publish(topic, [{ type: "after.1" }, { type: "after.2", critical: true }]);
    await until(async () => (seen.length === 3 ? true : undefined), 30_000, "the events after the restart");
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [1, "before"],
      [2, "after.1"],
      [3, "after.2"],
    ]);
    sub.close();
  });
});
