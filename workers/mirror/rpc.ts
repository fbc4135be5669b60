/** The mirror operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import type { MirrorApi } from "../../shared/client/mirror.ts";
import type { Env } from "../../shared/env.ts";
import type { Result } from "../../shared/errors.ts";
import { MirrorRequest, type MirrorStatus } from "../../shared/schemas/mirror.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";
import { stateObject } from "../state/object.ts";

/** `(await env.SWITCHYARD.mirrors()).put("sessions", { redis: { prefix: "sessions:" } })`. */
export class MirrorRpc extends RpcTarget implements MirrorApi {
  readonly #env: Env;

  constructor(env: Env) {
    super();
    this.#env = env;
  }

  /** As `PUT /v1/mirrors/state/{namespace}`. */
  async put(namespace: string, input: unknown): Promise<Result<MirrorStatus>> {
    const body = parseInput(MirrorRequest, input, "json");
    if (!body.ok) return body;
    return validName(namespace) ?? stateObject(this.#env, namespace).putMirror(body.value.redis.prefix);
  }

  /** As `GET /v1/mirrors/state/{namespace}`. */
  async get(namespace: string): Promise<Result<MirrorStatus>> {
    return validName(namespace) ?? stateObject(this.#env, namespace).getMirror();
  }

  /** As `DELETE /v1/mirrors/state/{namespace}`. */
  async delete(namespace: string): Promise<Result<{ deleted: true }>> {
    return validName(namespace) ?? stateObject(this.#env, namespace).deleteMirror();
  }
}
