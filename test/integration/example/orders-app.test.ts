/**
 * The example edge app (examples/orders-app) beside Switchyard, as `npm run example` runs them:
 * one `wrangler dev` with both configurations, the app bound to Switchyard's RPC entrypoint.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, until, wranglerDevCommand } from "../bus/worker.ts";

let child: ChildProcess | undefined;
let stateDir = "";
let base = "";

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "switchyard-example-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const dev = await wranglerDevCommand(port, stateDir, {
    before: ["-c", "examples/orders-app/wrangler.toml", "-c", "wrangler.toml"],
    after: ["--test-scheduled"],
  });
  child = spawn(dev.command, dev.args, { stdio: "ignore", env: dev.env });
  await until(
    async () => (await fetch(`${base}/orders/0`).catch(() => undefined))?.status === 200 || undefined,
    60_000,
    "the example app to answer",
  );
});

afterAll(async () => {
  child?.kill("SIGINT");
  await rm(stateDir, { recursive: true, force: true });
});

async function order(customer: string, total: number) {
  const res = await fetch(`${base}/orders`, {
    method: "POST",
    body: JSON.stringify({ customer, items: ["widget"], total }),
  });
  return { status: res.status, body: (await res.json()) as { taskId: string; customerOrders: number } };
}

describe("the example orders app over the service binding", () => {
  it("serialises one customer's orders under its lock: every count taken once", async () => {
    const placed = await Promise.all([1, 2, 3, 4, 5].map((n) => order("c-7", n)));
    expect(placed.every((p) => p.status === 201)).toBe(true);
    expect(placed.map((p) => p.body.customerOrders).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(placed.map((p) => p.body.taskId)).size).toBe(5);
  });

  it("refuses a malformed order with 400", async () => {
    const res = await fetch(`${base}/orders`, { method: "POST", body: '{"customer":"a b"}' });
    expect(res.status).toBe(400);
  });

  it("fulfils queued orders when its scheduled entry runs", async () => {
    const { body } = await order("c-8", 12);
    expect((await (await fetch(`${base}/orders/${body.taskId}`)).json()).fulfilled).toBe(false);
    expect((await fetch(`${base}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    await until(
      async () =>
        (await (await fetch(`${base}/orders/${body.taskId}`)).json()).fulfilled ? true : undefined,
      15_000,
      "the order to be fulfilled",
    );
  });
});
