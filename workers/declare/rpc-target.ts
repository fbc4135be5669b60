/**
 * A capability's service-binding RPC target from its operation table: one method per operation
 * that declares `rpc` arguments. Every method checks in the same order as the HTTP route (the
 * path parameters, then headers, query and body, with the route's schemas and the same
 * `invalid_request` errors), calls the object, and notes a written name in the catalog.
 */
import { RpcTarget } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import type { Env } from "../../shared/env.ts";
import { ok, type Result } from "../../shared/errors.ts";
import { parseJsonText } from "../../shared/json-text.ts";
import { noteName } from "../catalog/note.ts";
import type { Action, Background, Capability } from "../http/access.ts";
import { NAME_PARAM } from "../http/operation.ts";
import { parseInput } from "../http/validation.ts";
import {
  type AnyCall,
  type AnyDeclared,
  type CallContext,
  REQUEST_PARTS,
  type RequestPart,
  type RpcFunction,
  type RpcMethods,
} from "./table.ts";

/** Each request part's schema in a route, and the target its errors name. */
const PARTS: Record<
  RequestPart,
  { target: string; schema: (d: AnyCall, given: unknown) => z.ZodType | undefined }
> = {
  headers: { target: "header", schema: (d) => d.parts?.headers },
  query: { target: "query", schema: (d) => d.parts?.query },
  body: { target: "json", schema: (d, given) => d.bodySchemaFor?.(given) ?? bodySchema(d) },
};

function bodySchema(declared: AnyCall): z.ZodType | undefined {
  const media = declared.route.request?.body?.content["application/json"];
  return media && "schema" in media ? (media.schema as z.ZodType) : undefined;
}

function isPart(arg: string): arg is RequestPart {
  return (REQUEST_PARTS as readonly string[]).includes(arg);
}

/** The arguments of one RPC call, validated; a failure is the `invalid_request` result. */
function validated(declared: AnyCall, args: readonly unknown[]): Result<Record<string, unknown>> {
  const given: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  (declared.rpc ?? []).forEach((arg, i) => {
    // An absent part is `{}`, as an HTTP request without a body reads.
    if (isPart(arg)) given[arg] = args[i] ?? {};
    else params[arg] = args[i];
  });
  const input: Record<string, unknown> = {};
  const paramSchema = declared.route.request?.params as z.ZodType | undefined;
  if (paramSchema) {
    const parsed = parseInput(paramSchema, params, "param");
    if (!parsed.ok) return parsed;
    input.params = parsed.value;
  }
  for (const part of ["headers", "query", "body"] as const) {
    const schema = PARTS[part].schema(declared, given[part]);
    if (!schema || !(part in given)) continue;
    const parsed = parseInput(schema, given[part], PARTS[part].target);
    // As over HTTP: a value over its limit (413) is answered before these parts' faults (400).
    if (!parsed.ok) return oversizedIn(declared, given.body) ?? parsed;
    input[part] = parsed.value;
  }
  return { ok: true, value: input };
}

/** The `payload_too_large` failure the object would answer for `body`, if any. */
function oversizedIn(declared: AnyCall, body: unknown): Result<never> | undefined {
  const error = declared.oversized?.(body);
  return error && { ok: false, error };
}

/**
 * {@link validated}, with a value over its limit refused too: what a guard asks before it charges a
 * token's rate limit, whose `429` the contract answers after a `413`.
 */
function validatedForGuard(declared: AnyCall, args: readonly unknown[]): Result<Record<string, unknown>> {
  const input = validated(declared, args);
  return (input.ok && oversizedIn(declared, input.value.body)) || input;
}

const ENV = Symbol("env");
const CONTEXT = Symbol("context");

interface Bound {
  [ENV]: Env;
  [CONTEXT]: CallContext;
}

/** Gives a target made for a scoped token the check of whether that token has lapsed since. */
export function watchTokenOf(target: object, lapsed: () => Promise<boolean>): void {
  (target as Bound)[CONTEXT].lapsed = lapsed;
}

/**
 * The method a guard calls with arguments it has validated already (a rate-limited scoped token's
 * call, validated before the limit is charged), so that they are not validated twice.
 */
export const CALL_VALIDATED = Symbol("call validated");

/** Runs one operation for an RPC caller, on arguments already validated. */
async function callValidated(
  self: Bound,
  capability: Capability,
  declared: AnyCall,
  input: Record<string, unknown>,
): Promise<Result<unknown>> {
  const result = await declared.call(self[ENV], input as never, self[CONTEXT]);
  const access = declared.access;
  const param = NAME_PARAM[capability];
  if (result.ok && "catalog" in access && access.catalog && param !== undefined) {
    const name = (input.params as Record<string, string>)[param];
    if (name !== undefined) noteName(self[ENV], backgroundOf(self[CONTEXT]), capability, name);
  }
  // RPC callers get objects: JSON text built around stored payloads is decoded.
  if (result.ok && declared.jsonText) return ok(parseJsonText(declared.jsonText(result.value as never).text));
  return result;
}

/** Runs one operation for an RPC caller. */
function callOverRpc(
  self: Bound,
  capability: Capability,
  declared: AnyCall,
  args: readonly unknown[],
): Promise<Result<unknown>> {
  const input = validated(declared, args);
  return input.ok ? callValidated(self, capability, declared, input.value) : Promise.resolve(input);
}

function backgroundOf(context: CallContext): Background | undefined {
  const waitUntil = context.waitUntil;
  return waitUntil && { waitUntil };
}

/** An RPC target class whose methods are the table's RPC operations. */
export type RpcTargetClass<T> = new (env: Env, ctx?: Background) => RpcTarget & RpcMethods<T>;

/**
 * The RPC target of a capability: `new LockRpc(env, ctx)` has `acquire(name, input)`, ...
 * The methods sit on the class's own prototype, where the RPC runtime and `guardRpc` find them.
 * @example export const LockRpc = rpcTargetOf("locks", lockOperations);
 */
export function rpcTargetOf<T extends Record<string, AnyDeclared>>(
  capability: Capability,
  table: T,
): RpcTargetClass<T> {
  const Target = class extends RpcTarget {
    constructor(env: Env, ctx?: Background) {
      super();
      const context: CallContext = ctx ? { waitUntil: (work) => ctx.waitUntil(work) } : {};
      Object.assign(this, { [ENV]: env, [CONTEXT]: context });
    }
  };
  for (const [method, declared] of Object.entries(table)) {
    const rpc = declared.rpc;
    if (!rpc) continue;
    const value =
      typeof rpc === "function" || !("call" in declared)
        ? function handWritten(this: Bound, ...args: unknown[]) {
            return (rpc as RpcFunction).call(this[CONTEXT], this[ENV], ...(args as never[]));
          }
        : function declaredMethod(this: Bound, ...args: unknown[]) {
            return callOverRpc(this, capability, declared, args);
          };
    Object.defineProperty(Target.prototype, method, { value });
  }
  Object.defineProperty(Target.prototype, CALL_VALIDATED, {
    value: function callWithInput(this: Bound, method: string, input: Record<string, unknown>) {
      return callValidated(this, capability, table[method] as AnyCall, input);
    },
  });
  return Target as unknown as RpcTargetClass<T>;
}

/**
 * What a scoped token needs for an RPC method: its action on the name in the first argument, and
 * on the names `otherNames` finds in its arguments (a flow's child queues).
 */
export interface RpcAccess {
  action: Action;
  otherNames?: (args: readonly unknown[]) => string[];
  /**
   * The arguments validated as the method would (its `invalid_request`, or the input for
   * {@link CALL_VALIDATED}): the guard validates before it takes from a token's rate limit, so
   * that a refused call spends nothing, as over HTTP, and the method does not validate again.
   */
  validate?: (args: readonly unknown[]) => Result<Record<string, unknown>>;
}

/** The access each RPC method needs, from the table: what `guardRpc` checks a scoped token for. */
export function rpcAccessOf(table: Record<string, AnyDeclared>): Record<string, RpcAccess> {
  const access: Record<string, RpcAccess> = {};
  for (const [method, declared] of Object.entries(table)) {
    if (!declared.rpc || !("action" in declared.access)) continue;
    const { action } = declared.access;
    const otherNames = "otherNames" in declared ? declared.otherNames : undefined;
    const body = Array.isArray(declared.rpc) ? declared.rpc.indexOf("body") : -1;
    access[method] = {
      action,
      ...(otherNames && body >= 0 ? { otherNames: (args) => otherNames(args[body]) } : {}),
      ...("call" in declared ? { validate: (args) => validatedForGuard(declared, args) } : {}),
    };
  }
  return access;
}
