/**
 * The same operations over RPC: a Worker with a service binding to this one calls these methods
 * and skips HTTP. Inputs are validated with the HTTP schemas; failures come back as results
 * with the contract's codes, since thrown errors lose their class across RPC.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { Env } from "../shared/env.ts";
import { fail, type Result } from "../shared/errors.ts";
import { NAME_PATTERN } from "../shared/schemas/common.ts";
import {
  AcquireRequest,
  ExtendRequest,
  type LockGrant,
  type LockInfo,
  ReleaseRequest,
} from "../shared/schemas/lock.ts";
import { parseInput } from "./http/validation.ts";
import { lockObject } from "./lock/service.ts";

function badName<T>(name: unknown): Result<T> | undefined {
  if (typeof name === "string" && NAME_PATTERN.test(name)) return undefined;
  return fail("invalid_request", "name: must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$", { field: "name" });
}

export class SwitchyardRpc extends WorkerEntrypoint<Env> {
  /** As `POST /v1/locks/{name}/acquire`. */
  async acquireLock(name: string, input: unknown): Promise<Result<LockGrant>> {
    const parsed = parseInput(AcquireRequest, input, "json");
    return badName(name) ?? (parsed.ok ? lockObject(this.env, name).acquire(name, parsed.value) : parsed);
  }

  /** As `POST /v1/locks/{name}/release`. */
  async releaseLock(name: string, input: unknown): Promise<Result<{ released: true }>> {
    const parsed = parseInput(ReleaseRequest, input, "json");
    return badName(name) ?? (parsed.ok ? lockObject(this.env, name).release(name, parsed.value) : parsed);
  }

  /** As `POST /v1/locks/{name}/extend`. */
  async extendLock(name: string, input: unknown): Promise<Result<{ expiresAt: number }>> {
    const parsed = parseInput(ExtendRequest, input, "json");
    return badName(name) ?? (parsed.ok ? lockObject(this.env, name).extend(name, parsed.value) : parsed);
  }

  /** As `GET /v1/locks/{name}`. */
  async lockInfo(name: string): Promise<Result<LockInfo>> {
    return badName(name) ?? { ok: true, value: await lockObject(this.env, name).info(name) };
  }
}
