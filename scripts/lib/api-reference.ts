/**
 * Renders the OpenAPI document as the prose reference `docs/api.md`, so that the two cannot
 * drift: the integration suite renders the live document and compares it with the committed file
 * (`UPDATE_API_DOC=1` rewrites it).
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  nullable?: boolean;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<
    string,
    {
      description?: string;
      headers?: Record<string, unknown>;
      content?: Record<string, { schema?: Schema }>;
    }
  >;
  "x-switchyard-access"?: string;
}

/** The parts of an OpenAPI 3.1 document the reference and the tests read. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ["get", "put", "post", "delete", "patch"];

function refName(ref: string): string {
  return ref.split("/").pop() ?? ref;
}

function typeOf(schema: Schema | undefined): string {
  if (!schema) return "any JSON";
  if (schema.$ref) return refName(schema.$ref);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(typeOf).join(" \\| ");
  if (schema.type === "array") return `${typeOf(schema.items)}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(" \\| ");
  return schema.type ?? "any JSON";
}

function bounds(schema: Schema): string {
  const parts: string[] = [];
  const lo = schema.minimum ?? schema.minLength ?? schema.minItems;
  const hi = schema.maximum ?? schema.maxLength ?? schema.maxItems;
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (lo !== undefined || hi !== undefined) parts.push(`${lo ?? ""}..${hi ?? ""}`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(", ");
}

function cell(text: string | undefined): string {
  return (text ?? "").replace(/\|/g, "\\|").replace(/\n+/g, " ");
}

function fieldsTable(schema: Schema, doc: OpenApiDocument): string[] {
  const resolved = schema.$ref ? doc.components?.schemas?.[refName(schema.$ref)] : schema;
  if (!resolved?.properties) return [`Body: \`${typeOf(schema)}\``];
  // A body with no fields (EmptyBody): the route takes none, or `{}`.
  if (Object.keys(resolved.properties).length === 0) return ["Body: none, or `{}`."];
  const required = new Set(resolved.required ?? []);
  const rows = Object.entries(resolved.properties).map(
    ([name, field]) =>
      `| \`${name}\` | ${typeOf(field)} | ${required.has(name) ? "yes" : ""} | ${bounds(field)} | ${cell(field.description)} |`,
  );
  return [
    "| field | type | required | range, default | meaning |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ];
}

function renderOperation(method: string, path: string, op: Operation, doc: OpenApiDocument): string[] {
  const out = [`### \`${method.toUpperCase()} ${path}\` — ${op.operationId ?? ""}`, ""];
  if (op.summary) out.push(op.summary, "");
  if (op.description) out.push(op.description, "");
  const access = op["x-switchyard-access"];
  out.push(
    access === undefined
      ? "Auth: none (public)."
      : access === "admin-token"
        ? "Auth: an admin token (`API_TOKENS`); no scope grants it."
        : `Auth: a bearer token whose scopes grant \`${access.replace(":", "` → `")}\`.`,
    "",
  );
  const query = (op.parameters ?? []).filter((p) => p.in === "query");
  if (query.length > 0) {
    out.push("| query | type | required | range, default | meaning |", "| --- | --- | --- | --- | --- |");
    for (const p of query) {
      const schema = p.schema ?? {};
      out.push(
        `| \`${p.name}\` | ${typeOf(schema)} | ${p.required ? "yes" : ""} | ${bounds(schema)} | ${cell(p.description)} |`,
      );
    }
    out.push("");
  }
  const body = op.requestBody?.content?.["application/json"]?.schema;
  if (body) out.push(...fieldsTable(body, doc), "");
  const statuses = Object.entries(op.responses ?? {}).map(([status, res]) => {
    const schema = res.content?.["application/json"]?.schema;
    const shape = schema && status.startsWith("2") ? ` \`${typeOf(schema)}\`` : "";
    return `- \`${status}\`${shape}: ${cell(res.description)}`;
  });
  out.push(...statuses, "");
  return out;
}

/** The Markdown reference of every operation, grouped by tag in the document's order. */
export function renderApiReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "Other";
      const section = byTag.get(tag) ?? [];
      section.push(...renderOperation(method, path, op, doc));
      byTag.set(tag, section);
    }
  }
  const out = [
    `# ${doc.info.title} API reference (version ${doc.info.version})`,
    "",
    "Generated from the OpenAPI document (`GET /openapi.json`) by `scripts/lib/api-reference.ts`;",
    "the integration suite fails when this file and the document differ (`UPDATE_API_DOC=1 npm test` rewrites it).",
    'Errors always have the shape `{"error": {"code", "message", "details"?}}`; schemas named in',
    "`code` style are in the OpenAPI document's `components.schemas`.",
    "",
  ];
  for (const [tag, lines] of byTag) out.push(`## ${tag}`, "", ...lines);
  return `${out.join("\n").trimEnd()}\n`;
}
