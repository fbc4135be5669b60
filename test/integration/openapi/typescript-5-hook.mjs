// openapi-typescript builds its output with TypeScript's compiler API, which TypeScript 7 (the
// project's compiler, a native binary) no longer ships; this hook gives it TypeScript 5's.
import { register } from "node:module";

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "typescript" && context.parentURL?.includes("/openapi-typescript/")) {
    return next("typescript-5", context);
  }
  return next(specifier, context);
}`)}`,
);
