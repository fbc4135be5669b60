/**
 * A type as TypeScript source text, computed by TypeScript 5's checker: the schemas' own types
 * (shared/schemas) by name, everything else (zod's aliases, `z.infer`, `z.input`) expanded to its
 * structure. The client's package declarations (packages/client/scripts/wire-types.ts) and its
 * generated call tables (scripts/client-calls.ts) are written with it.
 */
import ts from "typescript-5";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A printer of types for modules of a repository. */
export interface TypeText {
  /** The text of `type` as the module `from` writes it; a schema type's name is noted in `imports`. */
  print(type: ts.Type, from: string, seen?: Set<ts.Type>): string;
  /** The text of `type`'s own structure, even where it has a schema name. */
  structure(type: ts.Type, from: string, seen?: Set<ts.Type>): string;
  /** By module: the schema types its text names, by schema module. */
  imports: Map<string, Map<string, Set<string>>>;
}

/**
 * A printer over `program`, whose files are in `repoRoot`; every schema type it names is added to
 * `wanted` (schema module -> names) too, for a caller that declares them.
 */
export function typeText(
  program: ts.Program,
  repoRoot: string,
  options: {
    /** Schema module -> names: every schema type printed by name is added. */
    wanted?: Map<string, Set<string>>;
    /**
     * Print an object type without a schema name by the name of a schema type equal to it, where
     * there is one (a type the runtime mapped, such as a Durable Object's answer through its stub,
     * has lost the name it had).
     */
    nameEqualTypes?: boolean;
  } = {},
): TypeText {
  const wanted = options.wanted ?? new Map<string, Set<string>>();
  const checker = program.getTypeChecker();
  const schemaDir = `${repoRoot}/shared/schemas/`;
  const imports = new Map<string, Map<string, Set<string>>>();

  /** The schema module and name of a hand-written type (an alias or interface) worth keeping by name. */
  function named(type: ts.Type): { file: string; name: string } | undefined {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const decl = symbol?.declarations?.[0];
    if (!symbol || !decl) return undefined;
    if (!ts.isTypeAliasDeclaration(decl) && !ts.isInterfaceDeclaration(decl)) return undefined;
    // A generic alias (`Sent<S>`) would print without its arguments: its instance is expanded.
    if (decl.typeParameters) return undefined;
    const file = decl.getSourceFile().fileName;
    // zod's own aliases (z.infer's helpers) are expanded; only the schemas' own names are kept.
    if (!file.startsWith(schemaDir)) return undefined;
    // Aliases of a zod type (`type X = z.infer<...>`) are expanded too, unless another module needs the name.
    return { file, name: symbol.name };
  }

  /**
   * The schema types equal to `type` whose names `from` can import, in module order: the same
   * fields and index signatures, each type assignable to the other.
   */
  function schemaTypesEqualTo(type: ts.Type, from: string): Array<{ file: string; name: string }> {
    const equal: Array<{ file: string; name: string }> = [];
    for (const source of program.getSourceFiles()) {
      if (!source.fileName.startsWith(schemaDir)) continue;
      const module = checker.getSymbolAtLocation(source);
      for (const symbol of module ? checker.getExportsOfModule(module) : []) {
        if (!(symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) continue;
        const decl = symbol.declarations?.[0];
        if (
          decl &&
          (ts.isTypeAliasDeclaration(decl) || ts.isInterfaceDeclaration(decl)) &&
          decl.typeParameters
        )
          continue;
        const ref = { file: source.fileName, name: symbol.name };
        if (sameFields(type, checker.getDeclaredTypeOfSymbol(symbol)) && !clashes(ref, from)) equal.push(ref);
      }
    }
    return equal;
  }

  function sameFields(a: ts.Type, b: ts.Type): boolean {
    const names = (t: ts.Type) =>
      checker
        .getPropertiesOfType(t)
        .map((p) => p.name)
        .sort()
        .join();
    return (
      names(a) === names(b) &&
      checker.getIndexInfosOfType(a).length === checker.getIndexInfosOfType(b).length &&
      checker.isTypeAssignableTo(a, b) &&
      checker.isTypeAssignableTo(b, a)
    );
  }

  /** Whether `from` imports another type of `ref`'s name from another module. */
  function clashes(ref: { file: string; name: string }, from: string): boolean {
    for (const [file, names] of imports.get(from) ?? [])
      if (file !== ref.file && names.has(ref.name)) return true;
    return false;
  }

  /** `ref`'s name, imported into `from`. */
  function reference(ref: { file: string; name: string }, from: string): string {
    (wanted.get(ref.file) ?? wanted.set(ref.file, new Set()).get(ref.file))?.add(ref.name);
    if (ref.file !== from) {
      const byFile = imports.get(from) ?? imports.set(from, new Map()).get(from);
      (byFile?.get(ref.file) ?? byFile?.set(ref.file, new Set()).get(ref.file))?.add(ref.name);
    }
    return ref.name;
  }

  function isEmptyObject(type: ts.Type): boolean {
    return (
      !!(type.flags & ts.TypeFlags.Object) &&
      type.getProperties().length === 0 &&
      checker.getIndexInfosOfType(type).length === 0 &&
      type.getCallSignatures().length === 0
    );
  }

  function print(type: ts.Type, from: string, seen: Set<ts.Type>): string {
    const ref = named(type);
    return ref && !clashes(ref, from) ? reference(ref, from) : structure(type, from, seen);
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
    if (type.isIntersection()) {
      // `X & {}` (the runtime's RPC types add such members) is X.
      const members = type.types.filter((t) => !isEmptyObject(t));
      if (members.length === 1 && members[0]) return print(members[0], from, seen);
      return members.map((t) => wrap(print(t, from, seen))).join(" & ");
    }
    if (f & ts.TypeFlags.Object) {
      // An array or tuple recurs through its elements, which the checks below see.
      if (checker.isArrayType(type)) {
        const [element] = checker.getTypeArguments(type as ts.TypeReference);
        const readonly = type.getSymbol()?.name === "ReadonlyArray" ? "readonly " : "";
        return `${readonly}${wrap(print(element as ts.Type, from, seen))}[]`;
      }
      if (checker.isTupleType(type)) {
        const elements = checker.getTypeArguments(type as ts.TypeReference);
        return `[${elements.map((t) => print(t, from, seen)).join(", ")}]`;
      }
      // A recursive type without a name is printed by the name of an equal where it recurs; with
      // nameEqualTypes, any type by the name of its one equal (of several, none is the right one).
      const equal = seen.has(type) || options.nameEqualTypes ? schemaTypesEqualTo(type, from) : [];
      const [first] = equal;
      if (first && (seen.has(type) || equal.length === 1)) return reference(first, from);
      if (seen.has(type)) {
        throw new Error(`a recursive wire type without a name (${checker.typeToString(type)})`);
      }
      const inner = new Set(seen).add(type);
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
    /^[\w$".\-[\] ]+$|^\{.*\}$/.test(text) && !text.includes(" | ") && !text.includes(" & ")
      ? text
      : `(${text})`;

  return {
    print: (type, from, seen = new Set()) => print(type, from, seen),
    structure: (type, from, seen = new Set()) => structure(type, from, seen),
    imports,
  };
}
