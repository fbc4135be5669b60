/** The lock operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import type { Result } from "../../shared/errors.ts";
import {
  AcquireRequest,
  ExtendRequest,
  type LockGrant,
  type LockInfo,
  ReleaseRequest,
} from "../../shared/schemas/lock.ts";
import { type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";

/**
 * `(await env.SWITCHYARD.locks()).acquire("orders", { owner: "w1" })` from a Worker with a service
 * binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
export class LockRpc extends RpcTarget {
  readonly #env: Env;
  /** Registers the name of a successful write in the catalog. */
  readonly #noted: NoteIfOk;

  constructor(env: Env, ctx?: Background) {
    super();
    this.#env = env;
    this.#noted = notesFor(env, ctx, "locks");
  }

  /** As `POST /v1/locks/{name}/acquire`. */
  async acquire(name: string, input: unknown): Promise<Result<LockGrant>> {
    const parsed = parseInput(AcquireRequest, input, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(name, validName(name) ?? this.#object(name).acquire(parsed.value));
  }

  /** As `POST /v1/locks/{name}/release`. */
  async release(name: string, input: unknown): Promise<Result<{ released: true }>> {
    const parsed = parseInput(ReleaseRequest, input, "json");
    if (!parsed.ok) return parsed;
    return validName(name) ?? this.#object(name).release(parsed.value);
  }

  /** As `POST /v1/locks/{name}/extend`. */
  async extend(name: string, input: unknown): Promise<Result<{ expiresAt: number }>> {
    const parsed = parseInput(ExtendRequest, input, "json");
    if (!parsed.ok) return parsed;
    return validName(name) ?? this.#object(name).extend(parsed.value);
  }

  /** As `GET /v1/locks/{name}`. */
  async info(name: string): Promise<Result<LockInfo>> {
    return validName(name) ?? { ok: true, value: await this.#object(name).info() };
  }

  #object(name: string) {
    return this.#env.LOCKS.getByName(name);
  }
}
