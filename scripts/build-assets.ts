/**
 * Builds the Worker's static assets (wrangler.toml `[assets]` serves `public/`, so these are `/assets/...`): the
 * operator console's script and style from `web/console/`, and the API reference viewer
 * (`@scalar/api-reference`'s self-contained browser bundle) that `/docs` loads. Everything the two
 * pages need comes from here, so they work with no internet. Wrangler runs this as its build
 * command before `dev` and `deploy`; `npm run build:assets` runs it by hand.
 */
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, "public/assets");

/** What the console may weigh, gzipped (script + style), as the README promises. */
const CONSOLE_BUDGET_BYTES = 150 * 1024;

await rm(join(out, "console"), { recursive: true, force: true });
await mkdir(join(out, "vendor"), { recursive: true });
await copyFile(
  join(root, "node_modules/@scalar/api-reference/dist/browser/standalone.js"),
  join(out, "vendor/scalar-api-reference.js"),
);
await build({
  entryPoints: { app: join(root, "web/console/main.ts"), style: join(root, "web/console/style.css") },
  outdir: join(out, "console"),
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
});

let gzipped = 0;
for (const file of ["app.js", "style.css"]) {
  gzipped += gzipSync(await readFile(join(out, "console", file))).length;
}
if (gzipped > CONSOLE_BUDGET_BYTES) {
  throw new Error(`the console weighs ${gzipped} bytes gzipped, over its budget of ${CONSOLE_BUDGET_BYTES}`);
}
console.log(`assets built: console ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
