import { describe, expect, it } from "vitest";
import { BusClient } from "../../../shared/client/bus.ts";
import type { BusEventValue } from "../../../shared/schemas/bus.ts";
import { TOKEN, until, workerForFile } from "./worker.ts";

const worker = workerForFile();

describe("the typed client over HTTP", () => {
  it("reconnects after the Worker restarts and resumes after the last seq, without duplicates", async () => {
    const bus = BusClient.http({ baseUrl: worker.current.baseUrl, token: TOKEN });
    const topic = `client-${Date.now()}`;
    const seen: BusEventValue[] = [];
    let disconnects = 0;
    const sub = bus.subscribe(topic, (e) => void seen.push(e), {
      fromSeq: 1,
      onDisconnect: () => disconnects++,
    });
    await bus.publish(topic, { type: "before", critical: true });
    await until(async () => (seen.length === 1 ? true : undefined), 15_000, "the first event");

    await worker.restart();
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
