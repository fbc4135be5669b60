/**
 * Mirrors of state namespaces into Redis, over HTTP or a service binding: the same three calls as
 * `/v1/mirrors/state/{namespace}` (see docs/redis.md), failures as `{ ok: false, error }`.
 * @example const mirrors = httpMirrors(new HttpTransport({ baseUrl, token }));
 *          await mirrors.put("sessions", { redis: { prefix: "sessions:" } });
 */
import type { Result } from "../errors.ts";
import type { MirrorStatus } from "../schemas/mirror.ts";
import type { HttpTransport } from "./http.ts";
import { bindingTransport, type CallTable, callsOver, httpTransport } from "./transport.ts";

/** The mirror operations, as both transports offer them (the RPC target implements it directly). */
export interface MirrorApi {
  /** Starts (or re-points) the mirror of `namespace` under `input.redis.prefix`. */
  put(namespace: string, input: { redis: { prefix: string } }): Promise<Result<MirrorStatus>>;
  get(namespace: string): Promise<Result<MirrorStatus>>;
  delete(namespace: string): Promise<Result<{ deleted: true }>>;
}

/** The mirror calls, as the Worker declares them (its mirror operations table). */
export const MIRROR_CALLS = {
  put: { http: "PUT /v1/mirrors/state/{namespace}", args: ["namespace", "body"] },
  get: { http: "GET /v1/mirrors/state/{namespace}", args: ["namespace"] },
  delete: { http: "DELETE /v1/mirrors/state/{namespace}", args: ["namespace"] },
} as const satisfies CallTable;

/** The mirror operations over HTTP. */
export const httpMirrors = (http: HttpTransport): MirrorApi =>
  callsOver(httpTransport(http), "mirrors", MIRROR_CALLS);

/** A service binding to Switchyard's `SwitchyardRpc` entrypoint; its `mirrors()` implements {@link MirrorApi}. */
export interface MirrorRpcBinding {
  mirrors(): object;
}

/** The mirror operations over a service binding. */
export const rpcMirrors = (binding: MirrorRpcBinding): MirrorApi =>
  callsOver(bindingTransport(binding), "mirrors", MIRROR_CALLS);
