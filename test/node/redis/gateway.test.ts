/**
 * The local Upstash-compatible gateway, driven by `@upstash/redis` itself over a real Redis
 * (127.0.0.1:6379, or REDIS_URL): what the client sends must come back as the client expects it.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Gateway, startGateway } from "../../../scripts/upstash-gateway/server.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TOKEN = "gateway-test-token";

let gateway: Gateway;
let direct: IORedis;
const prefix = `gwtest:${randomUUID()}:`;

function client(options: { autoPipeline?: boolean; retries?: number } = {}): Redis {
  return new Redis({
    url: gateway.url,
    token: TOKEN,
    enableAutoPipelining: options.autoPipeline ?? false,
    enableTelemetry: false,
    retry: options.retries === undefined ? { retries: 0 } : { retries: options.retries, backoff: () => 1 },
  });
}

beforeAll(async () => {
  gateway = await startGateway({ redisUrl: REDIS_URL, token: TOKEN });
  direct = new IORedis(REDIS_URL);
});

afterAll(async () => {
  const keys = await direct.keys(`${prefix}*`);
  if (keys.length > 0) await direct.del(...keys);
  direct.disconnect();
  await gateway.close();
});

describe("the Upstash-compatible gateway", () => {
  it("answers strings, numbers and nulls as the client decodes them", async () => {
    const redis = client();
    expect(await redis.set(`${prefix}s`, "héllo ✓ 🚀")).toBe("OK");
    expect(await redis.get(`${prefix}s`)).toBe("héllo ✓ 🚀");
    expect(await redis.get(`${prefix}missing`)).toBeNull();
    expect(await redis.incrby(`${prefix}n`, 5)).toBe(5);
    // The client serialises objects as JSON and parses them back.
    await redis.set(`${prefix}o`, { a: [1, "two"] });
    expect(await redis.get(`${prefix}o`)).toEqual({ a: [1, "two"] });
    expect(await direct.get(`${prefix}s`)).toBe("héllo ✓ 🚀");
    // A bulk string that reads "OK" is still base64 on the wire and decodes to itself.
    await redis.set(`${prefix}ok`, "OK");
    expect(await redis.get(`${prefix}ok`)).toBe("OK");
  });

  it("keeps answers readable without base64 encoding", async () => {
    const redis = new Redis({
      url: gateway.url,
      token: TOKEN,
      responseEncoding: false,
      enableTelemetry: false,
    });
    await redis.set(`${prefix}plain`, "text ✓");
    expect(await redis.get(`${prefix}plain`)).toBe("text ✓");
    expect(await redis.mget(`${prefix}plain`, `${prefix}none`)).toEqual(["text ✓", null]);
  });

  it("answers hashes", async () => {
    const redis = client();
    expect(await redis.hset(`${prefix}h`, { a: "1", b: "zwei" })).toBe(2);
    expect(await redis.hgetall(`${prefix}h`)).toEqual({ a: 1, b: "zwei" });
    expect(await redis.hget(`${prefix}h`, "b")).toBe("zwei");
    expect(await direct.hget(`${prefix}h`, "a")).toBe("1");
  });

  it("answers streams, nested arrays included", async () => {
    const redis = client();
    const id = await redis.xadd(`${prefix}x`, "*", { f: "v1", g: "ü" });
    await redis.xadd(`${prefix}x`, "*", { f: "v2" });
    expect(id).toMatch(/^\d+-\d+$/);
    const range = await redis.xrange(`${prefix}x`, "-", "+");
    expect(Object.values(range)).toEqual([{ f: "v1", g: "ü" }, { f: "v2" }]);
    expect(await redis.xlen(`${prefix}x`)).toBe(2);
    await redis.xgroup(`${prefix}x`, { type: "CREATE", group: "g", id: "0" });
    const read = (await redis.xreadgroup("g", "c1", `${prefix}x`, ">", { count: 10 })) as unknown[];
    expect(JSON.stringify(read)).toContain("v2");
  });

  it("runs Lua through the script helper: EVALSHA, then EVAL on NOSCRIPT", async () => {
    const redis = client();
    const body = `return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1]), ${randomUUID().length}}`;
    const script = redis.createScript<[string, string, number, number]>(body);
    await direct.script("FLUSH");
    // The first run falls back to EVAL, which also loads the script; the second hits EVALSHA.
    expect(await script.exec([`${prefix}lua`], ["arg ✓"])).toEqual([`${prefix}lua`, "arg ✓", 1, 36]);
    expect(await script.evalsha([`${prefix}lua`], ["x"])).toEqual([`${prefix}lua`, "x", 2, 36]);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("runs pipelines and auto-pipelined commands, errors per command", async () => {
    const redis = client();
    const p = redis.pipeline();
    p.set(`${prefix}p1`, "a");
    p.incr(`${prefix}p1`);
    p.get(`${prefix}p1`);
    const results = await p.exec({ keepErrors: true });
    expect(results[0]).toEqual({ result: "OK", error: undefined });
    expect(results[1]?.error).toMatch(/not an integer/);
    expect(results[2]).toEqual({ result: "a", error: undefined });

    const auto = client({ autoPipeline: true });
    const [a, b, c] = await Promise.all([
      auto.set(`${prefix}ap`, "1"),
      auto.incr(`${prefix}ap`),
      auto.get(`${prefix}ap`),
    ]);
    expect([a, b, c]).toEqual(["OK", 2, 2]);
  });

  it("runs transactions atomically and aborts them on a queueing error", async () => {
    const redis = client();
    const tx = redis.multi();
    tx.set(`${prefix}t`, "1");
    tx.incr(`${prefix}t`);
    tx.hset(`${prefix}t`, { f: "x" });
    const out = await tx.exec({ keepErrors: true });
    expect(out[0]?.result).toBe("OK");
    expect(out[1]?.result).toBe(2);
    expect(out[2]?.error).toMatch(/WRONGTYPE/);

    // A wrong arity is refused while queueing, which aborts the transaction.
    const res = await fetch(`${gateway.url}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify([
        ["set", `${prefix}t2`, "1"],
        ["get", "a", "b"],
      ]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/EXECABORT/);
    expect(await direct.exists(`${prefix}t2`)).toBe(0);
  });

  it("passes Redis errors through and refuses a wrong token", async () => {
    const redis = client();
    await redis.set(`${prefix}str`, "x");
    await expect(redis.hget(`${prefix}str`, "f")).rejects.toThrow(/WRONGTYPE/);
    const wrong = new Redis({ url: gateway.url, token: "nope", retry: false, enableTelemetry: false });
    await expect(wrong.get("k")).rejects.toThrow(/Unauthorized/);
  });

  it("sends an upstash-sync-token on every answer", async () => {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const first = await fetch(gateway.url, { method: "POST", headers, body: '["PING"]' });
    const second = await fetch(gateway.url, { method: "POST", headers, body: '["PING"]' });
    expect(Number(second.headers.get("upstash-sync-token"))).toBeGreaterThan(
      Number(first.headers.get("upstash-sync-token")),
    );
    expect(await first.json()).toEqual({ result: "PONG" });
  });

  it("drops an answer after applying the command, and refuses while down", async () => {
    const redis = client({ retries: 3 });
    gateway.faults.dropAnswers = 1;
    gateway.faults.dropCommand = "incr";
    // The client retries the lost answer, so a non-idempotent command is applied twice.
    expect(await redis.incr(`${prefix}f`)).toBe(2);
    expect(gateway.counters.dropped).toBe(1);
    gateway.faults.dropCommand = null;

    gateway.faults.down = true;
    await expect(client().get(`${prefix}f`)).rejects.toThrow(/unreachable/);
    gateway.faults.down = false;
    expect(await redis.get(`${prefix}f`)).toBe(2);
  });

  it("streams pub/sub messages to the client's subscribe()", async () => {
    const redis = client();
    const channel = `${prefix}ch`;
    const subscriber = redis.subscribe<{ n: number }>(channel);
    const received: { n: number }[] = [];
    const subscribed = new Promise<void>((resolve) => subscriber.on("subscribe", () => resolve()));
    subscriber.on("message", ({ message }) => received.push(message));
    await subscribed;
    for (let n = 1; n <= 3; n++) expect(await redis.publish(channel, { n })).toBe(1);
    await expect.poll(() => received.length).toBe(3);
    expect(received).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await subscriber.unsubscribe();
  });

  it("switches faults over HTTP", async () => {
    const res = await fetch(`${gateway.url}/__gateway/faults`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ down: true }),
    });
    expect(((await res.json()) as { faults: { down: boolean } }).faults.down).toBe(true);
    expect(gateway.faults.down).toBe(true);
    gateway.faults.down = false;
  });
});
