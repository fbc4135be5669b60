/**
 * Builds `@switchyard/client` from the modules the Worker itself imports (`shared/client`,
 * `shared/errors.ts`, `shared/resilience`, `shared/webhook-signature.ts`): one ESM file per entry
 * point with esbuild (shared code in chunks, so a lock-only app does not load the state cache),
 * declarations with TypeScript 7, and the schema types the declarations import replaced by plain
 * types (scripts/wire-types.ts) so that the package needs no zod. Run: `npm run build` here, or
 * `npm run build:client` at the root.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { ENTRY_POINTS } from "./entries.ts";
import { wireTypes } from "./wire-types.ts";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(pkgDir, "../..");
const dist = join(pkgDir, "dist");
const types = join(dist, "types");

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

await rm(dist, { recursive: true, force: true });

// JavaScript: one bundle per entry point; `splitting` puts what entries share in chunks.
await build({
  entryPoints: ENTRY_POINTS.map((e) => ({ in: join(repoRoot, e.source), out: e.out })),
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  chunkNames: "chunks/[name]-[hash]",
  // Keeps the class names errors print; the consumer's bundler minifies.
  minify: false,
  sourcemap: false,
  logLevel: "warning",
});

// Declarations: TypeScript 7 emits them for the entry points and what they import.
execFileSync(
  process.execPath,
  [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
  {
    cwd: pkgDir,
    stdio: "inherit",
  },
);

// The emitted schema declarations import zod: keep only the types the client's declarations
// name, as plain types. Everything else outside the client's modules is dropped.
const schemaSpec = /["']((?:\.\.?\/)+schemas\/[\w-]+)\.ts["']\)?(?:\.(\w+))?/g;
const importBlock = /import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+["']((?:\.\.?\/)+schemas\/[\w-]+)\.ts["']/g;
const wanted = new Map<string, Set<string>>();
const keep = (rel: string) =>
  rel.startsWith("shared/client/") ||
  rel.startsWith("shared/resilience/") ||
  rel === "shared/errors.d.ts" ||
  rel === "shared/webhook-signature.d.ts" ||
  rel.startsWith("packages/client/src/");
for (const file of await files(types)) {
  const rel = relative(types, file);
  if (!keep(rel)) {
    await rm(file);
    continue;
  }
  const text = await readFile(file, "utf8");
  const want = (spec: string, name: string) => {
    const source = `${resolve(repoRoot, dirname(rel), spec)}.ts`;
    (wanted.get(source) ?? wanted.set(source, new Set()).get(source))?.add(
      name.replace(/^type\s+/, "").trim(),
    );
  };
  for (const [, names, spec] of text.matchAll(importBlock)) {
    for (const name of (names as string).split(",").filter((n) => n.trim())) want(spec as string, name);
  }
  for (const [, spec, name] of text.matchAll(schemaSpec)) if (name) want(spec as string, name);
  if (/@hono|["']zod["']|durable-objects\/|workers\//.test(text.replace(schemaSpec, ""))) {
    throw new Error(`${rel} refers to the Worker or zod`);
  }
  // Relative `.ts` specifiers as the source writes them; the files next to them are `.d.ts`.
  await writeFile(file, text.replace(/(from\s+|import\()(["'])(\.\.?\/[^"']+)\.ts\2/g, "$1$2$3.js$2"));
}
const wire = wireTypes(repoRoot, wanted);
for (const [source, text] of wire) {
  const target = join(types, `${relative(repoRoot, source).replace(/\.ts$/, ".d.ts")}`);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
}

// Proof that each plain type and its zod type are assignable both ways, with TypeScript 7.
const checkDir = join(pkgDir, ".wire-check");
const lines = ["type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;"];
const asserts: string[] = [];
[...wanted].forEach(([source, names], i) => {
  const rel = relative(repoRoot, source);
  lines.push(`import type * as W${i} from "../dist/types/${rel.replace(/\.ts$/, ".js")}";`);
  lines.push(`import type * as S${i} from "../../../${rel}";`);
  for (const name of names) asserts.push(`Same<W${i}.${name}, S${i}.${name}>`);
});
lines.push(`export const same: [${asserts.join(", ")}] = [${asserts.map(() => "true").join(", ")}];`);
await rm(checkDir, { recursive: true, force: true });
await mkdir(checkDir);
await writeFile(join(checkDir, "wire.ts"), `${lines.join("\n")}\n`);
await writeFile(
  join(checkDir, "tsconfig.json"),
  JSON.stringify({ extends: "../../../tsconfig.json", include: [], files: ["wire.ts"] }),
);
try {
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", checkDir], {
    stdio: "inherit",
  });
} finally {
  await rm(checkDir, { recursive: true, force: true });
}
await rm(join(types, "durable-objects"), { recursive: true, force: true });
await rm(join(types, "workers"), { recursive: true, force: true });
console.log(`built ${relative(repoRoot, dist)}: ${ENTRY_POINTS.map((e) => e.out).join(", ")}`);
