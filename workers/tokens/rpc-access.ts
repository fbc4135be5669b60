/**
 * Scoped tokens on the service-binding RPC. A bound Worker that passes no token is admin, as
 * before: the binding itself is the trust boundary (only Workers the account binds can call).
 * A token narrows it: each RPC method is checked with the same decision as its HTTP route
 * (`allows`, capability and action from {@link RPC_ACTIONS}, the name from the first argument and
 * any other names the operation declares).
 * A method missing from the table is refused to scoped tokens (fail closed).
 */
import { RpcTarget } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { ApiError, type ErrorInfo, fail } from "../../shared/errors.ts";
import { breakerOperations } from "../breaker/operations.ts";
import { busOperations } from "../bus/operations.ts";
import { dbOperations } from "../db/operations.ts";
import { CALL_VALIDATED, type RpcAccess, rpcAccessOf, watchTokenOf } from "../declare/rpc-target.ts";
import { allows, type Capability, type Principal } from "../http/access.ts";
import { authenticate } from "../http/auth.ts";
import { lockOperations } from "../lock/operations.ts";
import { mirrorOperations } from "../mirror/operations.ts";
import { queueOperations } from "../queue/operations.ts";
import { stateOperations } from "../state/operations.ts";
import { enforceRateLimit } from "./rate-limit.ts";
import { scopedTokenLapsed } from "./verify.ts";

/** The access of each RPC method, per capability: the API.md table, as each operation declares it. */
export const RPC_ACTIONS: Record<Capability, Readonly<Record<string, RpcAccess>>> = {
  locks: rpcAccessOf(lockOperations),
  breakers: rpcAccessOf(breakerOperations),
  topics: rpcAccessOf(busOperations),
  state: rpcAccessOf(stateOperations),
  queues: rpcAccessOf(queueOperations),
  db: rpcAccessOf(dbOperations),
};

/** The mirror target's methods (`mirrors()`): all the `admin` action on `state`. */
export const MIRROR_RPC_ACTIONS: Readonly<Record<string, RpcAccess>> = rpcAccessOf(mirrorOperations);

/** What an RPC caller may pass when it asks for a capability's target. */
export interface RpcOptions {
  /** A scoped (or admin) token; without one the bound Worker is admin. */
  token?: string;
}

/** The principal of an RPC caller, or the error every call will answer with. */
async function rpcPrincipal(env: Env, token: string | undefined): Promise<Principal | ErrorInfo> {
  if (token === undefined) return { kind: "admin" };
  try {
    return await authenticate(env, token);
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    throw err;
  }
}

const INNER = Symbol("inner");
const CHECK = Symbol("check");

/** A guard's verdict on a call: refused, or let through (with its input, when the guard validated it). */
type Verdict = { denied: ErrorInfo } | { input?: Record<string, unknown> };
type Check = (method: string, args: unknown[]) => Promise<Verdict>;

interface Guarded {
  [INNER]: Record<string, (...args: unknown[]) => unknown> & {
    [CALL_VALIDATED]?: (method: string, input: Record<string, unknown>) => unknown;
  };
  [CHECK]: Check;
}

/** One guarded class per target class: each of its methods checks, then calls through. */
const guardedClasses = new WeakMap<object, new (inner: object, check: Check) => object>();

function guardedClass(proto: object): new (inner: object, check: Check) => object {
  const known = guardedClasses.get(proto);
  if (known) return known;
  const Guard = class extends RpcTarget {
    constructor(inner: object, check: Check) {
      super();
      Object.assign(this, { [INNER]: inner, [CHECK]: check });
    }
  };
  for (const method of Object.getOwnPropertyNames(proto)) {
    if (
      method === "constructor" ||
      typeof Object.getOwnPropertyDescriptor(proto, method)?.value !== "function"
    ) {
      continue;
    }
    Object.defineProperty(Guard.prototype, method, {
      value: async function guarded(this: Guarded, ...args: unknown[]) {
        const verdict = await this[CHECK](method, args);
        if ("denied" in verdict)
          return fail(verdict.denied.code, verdict.denied.message, verdict.denied.details);
        const inner = this[INNER];
        if (verdict.input && inner[CALL_VALIDATED]) return inner[CALL_VALIDATED](method, verdict.input);
        return inner[method]?.(...args);
      },
    });
  }
  guardedClasses.set(proto, Guard);
  return Guard;
}

/**
 * The capability's RPC target as the caller's token allows: the target itself for an admin,
 * else a guard whose every method answers `{ok: false, error}` (`unauthorized`, `forbidden`,
 * `rate_limited`) unless the token allows it.
 * @example return guardRpc(this.env, "locks", new LockRpc(this.env, this.ctx), options?.token);
 */
export async function guardRpc<T extends object>(
  env: Env,
  capability: Capability,
  target: T,
  token: string | undefined,
  actions: Readonly<Record<string, RpcAccess>> = RPC_ACTIONS[capability],
): Promise<T> {
  const first = await rpcPrincipal(env, token);
  if ("kind" in first && first.kind === "admin") return target;
  if ("kind" in first) watchTokenOf(target, () => scopedTokenLapsed(env, first));
  // Checked again on every call: a target kept past the token's expiry or revocation stops working.
  const check: Check = async (method, args) => {
    const principal = await rpcPrincipal(env, token);
    if (!("kind" in principal)) return { denied: principal };
    if (principal.kind === "admin") return {};
    const access = actions[method];
    const name = capability === "db" ? undefined : String(args[0]);
    const names = [name, ...(access?.otherNames?.(args) ?? [])];
    if (access === undefined || !names.every((n) => allows(principal, capability, access.action, n))) {
      return {
        denied: { code: "forbidden", message: `this token's scopes do not allow ${method} on ${capability}` },
      };
    }
    if (!principal.rateLimit) return {};
    // Validated before the limit is charged: a refused call answers its refusal and spends nothing.
    const input = access.validate?.(args);
    if (input && !input.ok) return { denied: input.error };
    try {
      await enforceRateLimit(env, principal.id, principal.rateLimit);
      return input ? { input: input.value } : {};
    } catch (err) {
      if (err instanceof ApiError)
        return { denied: { code: err.code, message: err.message, details: err.details } };
      throw err;
    }
  };
  const Guard = guardedClass(Object.getPrototypeOf(target));
  return new Guard(target, check) as T;
}
