/**
 * Plain declarations of the schema types the client's `.d.ts` files import. The schema modules
 * declare their types as `z.infer<typeof Schema>`; emitted as they are, the package's declarations
 * would import zod, a dependency. TypeScript 5's checker (TypeScript 7 has no JS API) resolves each
 * imported type to its structure here, so the package ships the types the Worker checks against,
 * computed at build time: they cannot drift, and `check` proves them equal to the zod types.
 */
import { relative } from "node:path";
import ts from "typescript-5";

/** Declared types of the schema modules, by module file and name. */
type Wanted = Map<string, Set<string>>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Declarations for `wanted` (schema module -> type names), one text per module, plus the names of
 * other schema types they refer to, added to `wanted` until nothing new turns up.
 */
export function wireTypes(repoRoot: string, wanted: Wanted): Map<string, string> {
  const files = [...wanted.keys()];
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const schemaDir = `${repoRoot}/shared/schemas/`;
  const out = new Map<string, Map<string, string>>();
  const imports = new Map<string, Map<string, Set<string>>>();

  /** The exported declared type `name` of `file`. */
  function declared(file: string, name: string): ts.Type {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
    if (!symbol || !(symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) {
      throw new Error(`${relative(repoRoot, file)} exports no type ${name}`);
    }
    return checker.getDeclaredTypeOfSymbol(symbol);
  }

  /** The schema module and name of a hand-written type (an alias or interface) worth keeping by name. */
  function named(type: ts.Type): { file: string; name: string } | undefined {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const decl = symbol?.declarations?.[0];
    if (!symbol || !decl) return undefined;
    if (!ts.isTypeAliasDeclaration(decl) && !ts.isInterfaceDeclaration(decl)) return undefined;
    const file = decl.getSourceFile().fileName;
    // zod's own aliases (z.infer's helpers) are expanded; only the schemas' own names are kept.
    if (!file.startsWith(schemaDir)) return undefined;
    // Aliases of a zod type (`type X = z.infer<...>`) are expanded too, unless another module needs the name.
    return { file, name: symbol.name };
  }

  function print(type: ts.Type, from: string, seen: Set<ts.Type>): string {
    const ref = named(type);
    if (ref) {
      (wanted.get(ref.file) ?? wanted.set(ref.file, new Set()).get(ref.file))?.add(ref.name);
      if (ref.file !== from) {
        const byFile = imports.get(from) ?? imports.set(from, new Map()).get(from);
        (byFile?.get(ref.file) ?? byFile?.set(ref.file, new Set()).get(ref.file))?.add(ref.name);
      }
      return ref.name;
    }
    return structure(type, from, seen);
  }

  function structure(type: ts.Type, from: string, seen: Set<ts.Type>): string {
    const f = type.flags;
    if (f & ts.TypeFlags.Any) throw new Error(`an any in a wire type (${checker.typeToString(type)})`);
    if (f & (ts.TypeFlags.Unknown | ts.TypeFlags.String | ts.TypeFlags.Number | ts.TypeFlags.Boolean))
      return checker.typeToString(type);
    if (f & (ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Never | ts.TypeFlags.Void))
      return checker.typeToString(type);
    if (f & (ts.TypeFlags.BigInt | ts.TypeFlags.ESSymbol)) return checker.typeToString(type);
    if (f & ts.TypeFlags.BooleanLiteral) return checker.typeToString(type);
    if (type.isStringLiteral()) return JSON.stringify(type.value);
    if (type.isNumberLiteral()) return String(type.value);
    if (type.isUnion()) {
      const parts = type.types;
      const hasTrue = parts.some(
        (t) => t.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(t) === "true",
      );
      const hasFalse = parts.some(
        (t) => t.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(t) === "false",
      );
      const texts = parts
        .filter((t) => !(hasTrue && hasFalse && t.flags & ts.TypeFlags.BooleanLiteral))
        .map((t) => wrap(print(t, from, seen)));
      if (hasTrue && hasFalse) texts.push("boolean");
      return texts.join(" | ");
    }
    if (type.isIntersection()) return type.types.map((t) => wrap(print(t, from, seen))).join(" & ");
    if (f & ts.TypeFlags.Object) {
      if (seen.has(type))
        throw new Error(`a recursive wire type without a name (${checker.typeToString(type)})`);
      const inner = new Set(seen).add(type);
      if (checker.isArrayType(type)) {
        const [element] = checker.getTypeArguments(type as ts.TypeReference);
        const readonly = type.getSymbol()?.name === "ReadonlyArray" ? "readonly " : "";
        return `${readonly}${wrap(print(element as ts.Type, from, inner))}[]`;
      }
      if (checker.isTupleType(type)) {
        const elements = checker.getTypeArguments(type as ts.TypeReference);
        return `[${elements.map((t) => print(t, from, inner)).join(", ")}]`;
      }
      if (type.getCallSignatures().length || type.getConstructSignatures().length) {
        throw new Error(`a function in a wire type (${checker.typeToString(type)})`);
      }
      const members: string[] = [];
      for (const info of checker.getIndexInfosOfType(type)) {
        members.push(`[key: ${checker.typeToString(info.keyType)}]: ${print(info.type, from, inner)};`);
      }
      for (const prop of checker.getPropertiesOfType(type)) {
        const key = IDENTIFIER.test(prop.name) ? prop.name : JSON.stringify(prop.name);
        const optional = prop.flags & ts.SymbolFlags.Optional ? "?" : "";
        const decl = prop.valueDeclaration ?? prop.declarations?.[0];
        const readonly =
          decl && ts.getCombinedModifierFlags(decl as ts.Declaration) & ts.ModifierFlags.Readonly
            ? "readonly "
            : "";
        members.push(`${readonly}${key}${optional}: ${print(checker.getTypeOfSymbol(prop), from, inner)};`);
      }
      return members.length ? `{ ${members.join(" ")} }` : "{}";
    }
    throw new Error(`an unexpected wire type (${checker.typeToString(type)})`);
  }

  const wrap = (text: string) =>
    /^[\w$".\-[\] ]+$|^\{.*\}$/.test(text) && !text.includes(" | ") ? text : `(${text})`;

  /** An interface is hand-written (zod types are aliases): its text stands as it is. */
  function declaration(file: string, name: string): string {
    const type = declared(file, name);
    const decl = type.getSymbol()?.declarations?.[0];
    if (!type.aliasSymbol && decl && ts.isInterfaceDeclaration(decl)) return decl.getText();
    return `export type ${name} = ${structure(type, file, new Set())};`;
  }

  // Declare every wanted name; printing may want more (a hand-written alias another one uses).
  for (let changed = true; changed; ) {
    changed = false;
    for (const [file, names] of wanted) {
      const done = out.get(file) ?? out.set(file, new Map()).get(file);
      for (const name of [...names]) {
        if (done?.has(name)) continue;
        done?.set(name, declaration(file, name));
        changed = true;
      }
    }
  }

  const texts = new Map<string, string>();
  for (const [file, decls] of out) {
    const lines = [
      "// Generated by packages/client/scripts/wire-types.ts from the zod schemas in shared/schemas.",
    ];
    for (const [other, names] of imports.get(file) ?? []) {
      const spec = `./${relative(schemaDir, other).replace(/\.ts$/, ".js")}`;
      lines.push(`import type { ${[...names].sort().join(", ")} } from "${spec}";`);
    }
    lines.push(...[...decls.keys()].sort().map((name) => decls.get(name) as string));
    texts.set(file, `${lines.join("\n")}\n`);
  }
  return texts;
}
