/**
 * `@switchyard/client` as another project gets it: built, packed with `npm pack`, installed from
 * the tarball into a throwaway project with no registry, type-checked there with TypeScript 7
 * (Node's own resolution, so the `exports` map and the declarations are what a user sees), then
 * run with Node 22 against the Worker: locks, the queue consumer and state.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build, transform } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTRY_POINTS } from "../../../packages/client/scripts/entries.ts";
import { TOKEN, workerForFile } from "../bus/worker.ts";

const run = promisify(execFile);
const root = process.cwd();
const pkgDir = join(root, "packages", "client");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const worker = workerForFile();

/** A Node 20 on this machine's PATH, if there is one (the package supports Node >= 20). */
async function node20(): Promise<string | undefined> {
  const { stdout } = await run("which", ["-a", "node"]).catch(() => ({ stdout: "" }));
  for (const bin of stdout.split("\n").filter(Boolean)) {
    const { stdout: version } = await run(bin, ["--version"]).catch(() => ({ stdout: "" }));
    if (version.startsWith("v20.")) return bin;
  }
  return undefined;
}

let dir = "";
let tarball = "";
let project = "";

/** The user's script: the facade for everything, a subpath entry for a lock-only client. */
const script = (baseUrl: string) => `
import { Switchyard } from "@switchyard/client";
import { HttpTransport } from "@switchyard/client/http";
import { httpLocks, LockClient } from "@switchyard/client/locks";

const baseUrl = ${JSON.stringify(baseUrl)};
const token = ${JSON.stringify(TOKEN)};
const sy = Switchyard.http({ baseUrl, token });

// Locks: the facade's handle and the lock-only client; fencing tokens only grow.
const fences: number[] = [];
const invoice = sy.lock("pkg-invoice");
await invoice.withLock(async ({ token }) => void fences.push(token));
await invoice.withLock(async ({ token }) => void fences.push(token));
const locks = new LockClient(httpLocks(new HttpTransport({ baseUrl, token })));
await locks.withLock("pkg-invoice", async ({ token }) => void fences.push(token));
console.log(\`locks: \${fences.length} grants, increasing=\${fences.every((t, i) => i === 0 || t > (fences[i - 1] ?? 0))}\`);

// Queue: enqueue three tasks, consume until all three are handled.
const orders = sy.queue("pkg-orders");
const ids = await orders.enqueueBatch([{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
const handled: number[] = [];
const stop = new AbortController();
const summary = await orders.consume(
  async (task) => {
    const payload = task.payload;
    if (payload && typeof payload === "object" && !Array.isArray(payload)) handled.push(Number(payload.n));
    if (handled.length === ids.length) stop.abort();
  },
  { concurrency: 2, signal: stop.signal },
);
console.log(\`queue: handled \${handled.sort().join(",")}, completed=\${summary.completed}\`);

// State: put, get, increment.
const carts = sy.state("pkg-carts");
await carts.put("cart-1", { items: 2 });
const cart = await carts.get("cart-1");
await carts.increment("visits");
const visits = await carts.increment("visits", 5);
console.log(\`state: \${JSON.stringify(cart?.value)} v\${cart?.version}, visits=\${visits}\`);
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-pack-"));
  await run(process.execPath, [join(pkgDir, "scripts", "build.ts")], { cwd: root });
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: pkgDir });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  if (!packed) throw new Error("npm pack packed nothing");
  tarball = join(dir, packed.filename);

  project = join(dir, "app");
  await mkdir(project);
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "throwaway-app", private: true, type: "module" }, null, 2),
  );
  await run("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund"], { cwd: project });
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the packed client", () => {
  it("holds built JavaScript and declarations, no TypeScript source, and has no dependencies", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.split("\n").filter(Boolean);
    expect(files).toContain("package/package.json");
    expect(files).toContain("package/dist/index.js");
    expect(files).toContain("package/dist/types/shared/client/switchyard.d.ts");
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    // The declarations carry the schema types as plain types: nothing imports zod or the Worker.
    const { stdout: declarations } = await run(
      "tar",
      ["-xzOf", tarball, "--wildcards", "package/dist/types/*"],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    expect(declarations).toContain("export type LockGrant = {");
    expect(declarations).not.toMatch(/["'](zod|@hono\/[\w-]+)["']|durable-objects\/|workers\//);
    const { stdout: manifest } = await run("tar", ["-xzOf", tarball, "package/package.json"]);
    const pkg = JSON.parse(manifest) as Record<string, unknown>;
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.peerDependencies).toBeUndefined();
    expect(pkg.sideEffects).toBe(false);
    // `exports` names exactly the entry points the build makes, each with its declarations.
    const exported = pkg.exports as Record<string, { types: string; default: string } | string>;
    expect(Object.keys(exported).filter((k) => k !== "./package.json")).toEqual(
      ENTRY_POINTS.map((e) => e.subpath),
    );
    for (const entry of ENTRY_POINTS) {
      expect(exported[entry.subpath]).toEqual({
        types: `./dist/types/${entry.source.replace(/\.ts$/, ".d.ts")}`,
        default: `./dist/${entry.out}.js`,
      });
      expect(files).toContain(`package/dist/${entry.out}.js`);
    }
    // Installed alone: nothing besides the package itself came along.
    expect(await readdir(join(project, "node_modules"))).toEqual(expect.not.arrayContaining(["zod"]));
    expect((await readdir(join(project, "node_modules"))).filter((n) => !n.startsWith("."))).toEqual([
      "@switchyard",
    ]);
  });

  it("type-checks a user's script with TypeScript 7 and runs it with Node 22 against the Worker", async () => {
    await writeFile(join(project, "main.ts"), script(worker.current.baseUrl));
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          lib: ["es2023", "dom"],
          types: [],
          strict: true,
          noEmit: true,
          // The package's own declarations are checked too.
          skipLibCheck: false,
        },
        files: ["main.ts"],
      }),
    );
    await run(process.execPath, [tsc, "-p", project], { cwd: project }).catch((err: { stdout: string }) => {
      throw new Error(`tsc failed:\n${err.stdout}`);
    });

    const { stdout } = await run(process.execPath, ["main.ts"], { cwd: project, timeout: 60_000 });
    expect(stdout.trim().split("\n")).toEqual([
      "locks: 3 grants, increasing=true",
      "queue: handled 1,2,3, completed=3",
      'state: {"items":2} v1, visits=6',
    ]);
  });

  it("runs the same script on Node 20, whose queue consumer polls over HTTP (no global WebSocket)", async (ctx) => {
    const bin = await node20();
    if (!bin) return ctx.skip();
    const { code } = await transform(script(worker.current.baseUrl).replaceAll("pkg-", "pkg20-"), {
      loader: "ts",
      format: "esm",
    });
    await writeFile(join(project, "main20.mjs"), code);
    const { stdout } = await run(bin, ["main20.mjs"], { cwd: project, timeout: 60_000 });
    expect(stdout.trim().split("\n")).toEqual([
      "locks: 3 grants, increasing=true",
      "queue: handled 1,2,3, completed=3",
      'state: {"items":2} v1, visits=6',
    ]);
  });

  it("lets a lock-only app leave the state cache and the queue consumer out of its bundle", async () => {
    const bundle = async (contents: string) => {
      const out = await build({
        stdin: { contents, resolveDir: project, loader: "js" },
        bundle: true,
        write: false,
        format: "esm",
        platform: "neutral",
      });
      return out.outputFiles[0]?.text ?? "";
    };
    const lockOnly = await bundle(
      'import { httpLocks, LockClient } from "@switchyard/client/locks"; export { httpLocks, LockClient };',
    );
    expect(lockOnly).toMatch(/\bLockClient\b/);
    expect(lockOnly).not.toMatch(/\bStateCache\b/);
    expect(lockOnly).not.toMatch(/\bQueueClient\b/);
    const facade = await bundle('export { Switchyard } from "@switchyard/client";');
    expect(facade).toMatch(/\bStateCache\b/);
  });
});
