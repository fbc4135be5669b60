/**
 * The OpenAPI document is fit for generated clients: Redocly's recommended rules report no
 * errors, and a client generated with openapi-typescript (`--default-non-nullable false`) and
 * openapi-fetch type-checks a script that calls every capability with only the required fields,
 * which then runs against the Worker.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { type OpenApiDocument, renderApiReference } from "../../../scripts/lib/api-reference.ts";
import { TOKEN, workerForFile } from "../bus/worker.ts";

const run = promisify(execFile);
const root = process.cwd();
const outDir = join(root, "test-output", "generated-client");
const worker = workerForFile();

/** Every capability once, each call with only the fields the document marks required. */
const CLIENT_SCRIPT = `
import createClient from "openapi-fetch";
import type { paths } from "./schema.ts";

const client = createClient<paths>({
  baseUrl: process.env.BASE_URL,
  headers: { authorization: \`Bearer \${process.env.TOKEN}\` },
});

function must<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) {
    throw new Error(\`\${what}: \${result.response.status} \${JSON.stringify(result.error)}\`);
  }
  return result.data;
}

const name = { name: "generated-lock" };
const grant = must(await client.POST("/v1/locks/{name}/acquire", { params: { path: name }, body: { owner: "gen" } }), "acquireLock");
must(await client.POST("/v1/locks/{name}/extend", { params: { path: name }, body: { owner: "gen", token: grant.token, ttlMs: 5000 } }), "extendLock");
must(await client.POST("/v1/locks/{name}/release", { params: { path: name }, body: { owner: "gen", token: grant.token } }), "releaseLock");

const key = { namespace: "generated", key: "counter" };
must(await client.PUT("/v1/state/{namespace}/{key}", { params: { path: key }, body: { value: 1 } }), "putStateKey");
must(await client.POST("/v1/state/{namespace}/{key}/increment", { params: { path: key }, body: {} }), "incrementStateKey");
const entry = must(await client.GET("/v1/state/{namespace}/{key}", { params: { path: key } }), "getStateKey");
if (entry.value !== 2) throw new Error(\`counter is \${JSON.stringify(entry.value)}\`);

const queue = { queue: "generated" };
const { ids } = must(await client.POST("/v1/queues/{queue}/tasks", { params: { path: queue }, body: { payload: { n: 1 } } }), "enqueueTasks");
const { tasks } = must(await client.POST("/v1/queues/{queue}/lease", { params: { path: queue }, body: {} }), "leaseTasks");
const task = tasks[0];
if (!task || task.id !== ids[0]) throw new Error("leased the wrong task");
must(await client.POST("/v1/queues/{queue}/tasks/{id}/extend", { params: { path: { ...queue, id: task.id } }, body: { leaseId: task.leaseId, visibilityMs: 5000 } }), "extendTaskLease");
must(await client.POST("/v1/queues/{queue}/tasks/{id}/ack", { params: { path: { ...queue, id: task.id } }, body: { leaseId: task.leaseId } }), "ackTask");
must(await client.GET("/v1/queues/{queue}/stats", { params: { path: queue } }), "getQueueStats");
const ran = must(await client.POST("/v1/queues/{queue}/run", { params: { path: queue, query: { waitMs: 0 } }, body: { payload: { n: 2 } } }), "runTask");
if (ran.state !== "ready") throw new Error("ran a task that is " + ran.state);

must(await client.POST("/v1/topics/{topic}/events", { params: { path: { topic: "generated" } }, body: { type: "gen.created" } }), "publishEvents");
must(await client.GET("/v1/topics/{topic}/stats", { params: { path: { topic: "generated" } } }), "getTopicStats");

must(await client.POST("/v1/breakers/{name}/acquire", { params: { path: { name: "generated" } } }), "acquireBreaker");
must(await client.POST("/v1/breakers/{name}/record", { params: { path: { name: "generated" } }, body: { ok: true } }), "recordBreakerCall");

must(await client.GET("/v1/db/status", {}), "getDbStatus");
console.log("generated client: every capability answered");
`;

describe("the OpenAPI document", () => {
  it("passes Redocly's recommended rules with no errors", async () => {
    const doc = await (await fetch(`${worker.current.baseUrl}/openapi.json`)).text();
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: doc, absoluteRef: "/openapi.json", config });
    const errors = problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId}: ${p.message}`);
    expect(errors).toEqual([]);
  });

  it("gives every operation a unique operationId and every /v1 operation its access", async () => {
    const doc = (await (await fetch(`${worker.current.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId?: string; "x-switchyard-access"?: string }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.values(item).map((op) => ({ path, ...op })),
    );
    const ids = ops.map((op) => op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = ops.filter((op) => op.path.startsWith("/v1") && !op["x-switchyard-access"]);
    expect(missing.map((op) => op.operationId)).toEqual([]);
  });

  it("generates a client that type-checks and calls every capability", async () => {
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    await writeFile(
      join(outDir, "openapi.json"),
      await (await fetch(`${worker.current.baseUrl}/openapi.json`)).text(),
    );
    const generator = join(root, "node_modules", "openapi-typescript", "bin", "cli.js");
    const hook = join(root, "test", "integration", "openapi", "typescript-5-hook.mjs");
    await run(process.execPath, [
      "--import",
      hook,
      generator,
      join(outDir, "openapi.json"),
      "--default-non-nullable",
      "false",
      "--output",
      join(outDir, "schema.ts"),
    ]);
    await writeFile(join(outDir, "client.ts"), CLIENT_SCRIPT);
    await writeFile(
      join(outDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["client.ts"],
      }),
    );
    // TypeScript 7, the project's compiler (node_modules/.bin/tsc may be the generator's TypeScript 5).
    await run(process.execPath, [
      join(root, "node_modules", "typescript", "bin", "tsc"),
      "-p",
      join(outDir, "tsconfig.json"),
    ]);
    const { stdout } = await run(process.execPath, [join(outDir, "client.ts")], {
      env: { ...process.env, BASE_URL: worker.current.baseUrl, TOKEN },
    });
    expect(stdout).toContain("every capability answered");
  }, 120_000);
});

describe("docs/api.md", () => {
  it("is the rendering of the live OpenAPI document", async () => {
    const doc = (await (await fetch(`${worker.current.baseUrl}/openapi.json`)).json()) as OpenApiDocument;
    const rendered = renderApiReference(doc);
    const path = join(root, "docs", "api.md");
    if (process.env.UPDATE_API_DOC === "1") await writeFile(path, rendered);
    expect(await readFile(path, "utf8").catch(() => "")).toBe(rendered);
  });
});
