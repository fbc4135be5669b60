/** The shared circuit breaker operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { ok, type Result } from "../../shared/errors.ts";
import {
  type BreakerAcquired,
  BreakerConfig,
  type BreakerInfo,
  type BreakerRecorded,
  type BreakerSettings,
  Outcome,
  OutcomeBatch,
} from "../../shared/schemas/breaker.ts";
import { type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";

/**
 * `(await env.SWITCHYARD.breakers()).acquire("payments-api")` from a Worker with a service
 * binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 */
export class BreakerRpc extends RpcTarget {
  readonly #env: Env;
  /** Registers the name of a successful write in the catalog. */
  readonly #noted: NoteIfOk;

  constructor(env: Env, ctx?: Background) {
    super();
    this.#env = env;
    this.#noted = notesFor(env, ctx, "breakers");
  }

  /** As `PUT /v1/breakers/{name}`. */
  async configure(name: string, input: unknown): Promise<Result<BreakerSettings>> {
    const parsed = parseInput(BreakerConfig, input ?? {}, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(name, validName(name) ?? ok(await this.#object(name).configure(parsed.value)));
  }

  /** As `POST /v1/breakers/{name}/acquire`. */
  async acquire(name: string): Promise<Result<BreakerAcquired>> {
    return this.#noted(name, validName(name) ?? ok(await this.#object(name).acquire()));
  }

  /** As `POST /v1/breakers/{name}/record`. */
  async record(name: string, input: unknown): Promise<Result<BreakerRecorded>> {
    const parsed = parseInput(Outcome, input, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(name, validName(name) ?? ok(await this.#object(name).record([parsed.value])));
  }

  /** As `POST /v1/breakers/{name}/record-batch`. */
  async recordBatch(name: string, input: unknown): Promise<Result<BreakerRecorded>> {
    const parsed = parseInput(OutcomeBatch, input, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(name, validName(name) ?? ok(await this.#object(name).record(parsed.value.outcomes)));
  }

  /** As `GET /v1/breakers/{name}`. */
  async info(name: string): Promise<Result<BreakerInfo>> {
    return validName(name) ?? ok(await this.#object(name).info());
  }

  #object(name: string) {
    return this.#env.BREAKERS.getByName(name);
  }
}
