/**
 * Runs the Upstash-compatible REST gateway on its own, e.g. for a Worker started by hand:
 *
 *   node scripts/upstash-gateway/cli.ts [--port 8079] [--redis redis://127.0.0.1:6379] [--token t]
 *
 * Then give the Worker `UPSTASH_REDIS_REST_URL=<printed url>` and `UPSTASH_REDIS_REST_TOKEN=<token>`.
 * Defaults come from `REDIS_URL`, `UPSTASH_GATEWAY_PORT` and `UPSTASH_REDIS_REST_TOKEN`.
 */
import { parseArgs } from "node:util";
import { startGateway } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.UPSTASH_GATEWAY_PORT ?? "8079" },
    redis: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
    token: { type: "string", default: process.env.UPSTASH_REDIS_REST_TOKEN ?? "switchyard-dev-redis-token" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

const gateway = await startGateway({
  redisUrl: values.redis,
  token: values.token,
  port: Number(values.port),
  host: values.host,
});
console.log(`Upstash-compatible gateway ${gateway.url} -> ${values.redis} (token ${gateway.token})`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => void gateway.close().then(() => process.exit(0)));
}
