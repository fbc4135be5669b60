/**
 * Writes the client's call tables, shared/client/calls.ts, from the Worker's operation tables
 * (workers/tables.ts), so that an operation is declared once: for each capability the client
 * calls, each operation's route and arguments (the data both transports run on) and its method's
 * types (what a caller sends, what it answers). TypeScript 5's checker reads them from
 * `EveryClientCall` (workers/declare/client-calls.ts), and each summary from its declaration.
 *
 * Run `npm run generate:calls` after changing a declaration; test/node/client/calls-generated.test.ts
 * fails while the file is stale.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript-5";
import { typeText } from "./lib/type-text.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CALLS_FILE = join(repoRoot, "shared/client/calls.ts");
const DECLARED = join(repoRoot, "workers/declare/client-calls.ts");
const TABLES_FILE = join(repoRoot, "workers/tables.ts");

/**
 * The capabilities the client calls, with the prefix of their names in the file (`LOCK_CALLS`,
 * `LockCalls`). Not here: `db` (edge apps reach Postgres through shared/db over Hyperdrive) and
 * `catalog` (the client lists every capability with one call of its own, shared/client/catalog.ts).
 */
const CLIENT_NAMES = {
  locks: "Lock",
  breakers: "Breaker",
  topics: "Bus",
  state: "State",
  mirrors: "Mirror",
  queues: "Queue",
  tokens: "Token",
} as const;

const PARTS = new Set(["body", "query", "headers"]);

/** The text of shared/client/calls.ts as the declarations stand. */
export async function clientCallsText(): Promise<string> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(repoRoot, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("tsconfig.json: not read");
  const program = ts.createProgram([DECLARED], config.options);
  const checker = program.getTypeChecker();
  const printer = typeText(program, repoRoot, { nameEqualTypes: true });

  const exported = (file: string, name: string): ts.Symbol => {
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === name);
    if (!symbol) throw new Error(`${relative(repoRoot, file)} exports no ${name}`);
    return symbol;
  };
  const property = (type: ts.Type, name: string): ts.Type => {
    const symbol = type.getProperty(name);
    if (!symbol) throw new Error(`no property ${name} in ${checker.typeToString(type)}`);
    return checker.getTypeOfSymbol(symbol);
  };
  const literal = (type: ts.Type): string => {
    if (!type.isStringLiteral()) throw new Error(`not a string literal: ${checker.typeToString(type)}`);
    return type.value;
  };

  const every = checker.getDeclaredTypeOfSymbol(exported(DECLARED, "EveryClientCall"));
  const tables = checker.getTypeOfSymbol(exported(TABLES_FILE, "TABLES"));
  const sections: string[] = [];
  for (const [capability, prefix] of Object.entries(CLIENT_NAMES)) {
    const table = property(tables, capability);
    const mount = literal(property(table, "mount"));
    const declarations = property(table, "operations");
    const rows: string[] = [];
    const methods: string[] = [];
    // A capability the service binding offers has the calls both transports carry; the rest are HTTP only.
    const operations = property(every, capability).getProperties();
    const overRpc = (operation: ts.Symbol) =>
      checker.typeToString(property(checker.getTypeOfSymbol(operation), "overRpc")) === "true";
    const bound = operations.some(overRpc);
    const offered = bound ? operations.filter(overRpc) : operations;
    for (const operation of offered) {
      const call = checker.getTypeOfSymbol(operation);
      const name = operation.name;
      const [verb, path] = literal(property(call, "http")).split(" ");
      const args = checker
        .getTypeArguments(property(call, "args") as ts.TypeReference)
        .map((arg) => literal(arg));
      const spec = specOf(declarations.getProperty(name));
      if (!spec)
        throw new Error(`${capability}.${name}: not declared as \`name: declarer(id, http, {...})\``);
      const http = `${verb} ${`${mount}${path}`.replace(/\/$/, "")}`;
      const idempotent = hasTrue(spec, "idempotent") ? ", idempotent: true" : "";
      rows.push(`  ${name}: { http: ${JSON.stringify(http)}, args: ${JSON.stringify(args)}${idempotent} },`);

      // A part may be left out where its schema takes `{}`, what an absent part reads as: tried on
      // the schema, since a refinement the types cannot see may need a field.
      const params: Array<{ text: string; optional: boolean }> = [];
      for (const arg of args) {
        if (!PARTS.has(arg)) {
          params.push({ text: `${arg}: string`, optional: false });
          continue;
        }
        const optional = await takesEmpty(checker, propertyOf(spec, arg), `${capability}.${name} ${arg}`);
        const type = printer.print(property(call, arg), CALLS_FILE);
        params.push({ text: `${arg}${optional ? "?" : ""}: ${type}`, optional });
      }
      // An optional parameter before a required one is a type error: such a part is given as is.
      for (let i = params.length - 2; i >= 0; i--) {
        const next = params[i + 1];
        const param = params[i];
        if (param?.optional && next && !next.optional) {
          param.text = param.text.replace("?:", ":");
          param.optional = false;
        }
      }
      const summary = stringOf(spec, "summary");
      if (summary) methods.push(docComment(`${summary}: \`${http}\`.`));
      // The declared success body, whose schemas name its types; the RPC answer where the body wraps it.
      const value = printer.print(
        property(call, propertyOf(spec, "json") ? "answer" : "success"),
        CALLS_FILE,
      );
      methods.push(`  ${name}(${params.map((p) => p.text).join(", ")}): Promise<Result<${value}>>;`);
    }
    sections.push(
      [
        `/** The ${capability} calls: the route and arguments of each (./transport.ts runs them). */`,
        `export const ${prefix.toUpperCase()}_CALLS = {`,
        ...rows,
        "} as const satisfies CallTable;",
        "",
        `/** The ${capability} operations, ${bound ? "as both transports offer them" : "over HTTP only"}. */`,
        `export interface ${prefix}Calls {`,
        ...methods,
        "}",
      ].join("\n"),
    );
  }

  const imports = [...(printer.imports.get(CALLS_FILE) ?? [])]
    .map(([file, names]) => {
      const spec = relative(dirname(CALLS_FILE), file);
      const from = spec.startsWith(".") ? spec : `./${spec}`;
      return `import type { ${[...names].sort().join(", ")} } from "${from}";`;
    })
    .sort();
  const text = [
    "/**",
    " * The client's calls, generated from the Worker's operation tables by scripts/client-calls.ts:",
    " * do not edit; `npm run generate:calls` writes it again.",
    " */",
    'import type { Result } from "../errors.ts";',
    ...imports,
    'import type { CallTable } from "./transport.ts";',
    "",
    sections.join("\n\n"),
    "",
  ].join("\n");
  return format(text);
}

/**
 * Whether the schema a part's declaration names (`X`, or `optionalBody(X)`) takes `{}`, tried on
 * the schema itself, which must be an export of a schema module (shared/schemas) for that.
 */
async function takesEmpty(
  checker: ts.TypeChecker,
  written: ts.Node | undefined,
  what: string,
): Promise<boolean> {
  const named = written && ts.isCallExpression(written) ? written.arguments[0] : written;
  let symbol = named && ts.isIdentifier(named) ? checker.getSymbolAtLocation(named) : undefined;
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const file = symbol?.valueDeclaration?.getSourceFile().fileName;
  if (!symbol || !file?.startsWith(join(repoRoot, "shared/schemas/"))) {
    throw new Error(`${what}: name a schema exported by shared/schemas (or optionalBody of one)`);
  }
  const module: Record<string, { safeParse?: (value: unknown) => { success: boolean } }> = await import(
    pathToFileURL(file).href
  );
  const schema = module[symbol.name];
  if (!schema?.safeParse) throw new Error(`${relative(repoRoot, file)}: ${symbol.name} is not a schema`);
  return schema.safeParse({}).success;
}

/** A member's doc comment, wrapped at 100 columns. */
function docComment(text: string): string {
  if (text.length <= 90) return `  /** ${text} */`;
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > 95) {
      lines.push(`   * ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(`   * ${line}`);
  return ["  /**", ...lines, "   */"].join("\n");
}

/** The object literal an entry's declaration gives its declarer (`locks.write(id, http, {...})`). */
function specOf(symbol: ts.Symbol | undefined): ts.ObjectLiteralExpression | undefined {
  const declaration = symbol?.valueDeclaration;
  if (!declaration || !ts.isPropertyAssignment(declaration)) return undefined;
  const call = declaration.initializer;
  if (!ts.isCallExpression(call)) return undefined;
  const spec = call.arguments[2];
  return spec && ts.isObjectLiteralExpression(spec) ? spec : undefined;
}

/** A property of the literal: its value, or the member itself where it is a method or shorthand. */
function propertyOf(spec: ts.ObjectLiteralExpression, name: string): ts.Node | undefined {
  for (const p of spec.properties) {
    if (ts.isSpreadAssignment(p)) throw new Error(`a spread in a declaration: ${p.getText()}`);
    const key = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
    if (key !== name) continue;
    return ts.isPropertyAssignment(p) ? p.initializer : p;
  }
  return undefined;
}

function hasTrue(spec: ts.ObjectLiteralExpression, name: string): boolean {
  const value = propertyOf(spec, name);
  if (value === undefined) return false;
  if (value.kind === ts.SyntaxKind.TrueKeyword) return true;
  throw new Error(`${name}: write it as \`${name}: true\` (${value.getText()})`);
}

function stringOf(spec: ts.ObjectLiteralExpression, name: string): string | undefined {
  const value = propertyOf(spec, name);
  return value && ts.isStringLiteralLike(value) ? value.text : undefined;
}

/** The text as `npm run format` leaves it. */
function format(text: string): string {
  return execFileSync(
    join(repoRoot, "node_modules/.bin/biome"),
    ["check", "--write", `--stdin-file-path=${CALLS_FILE}`],
    { input: text, encoding: "utf8", cwd: repoRoot },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CALLS_FILE, await clientCallsText());
  console.log(`wrote ${relative(repoRoot, CALLS_FILE)}`);
}
