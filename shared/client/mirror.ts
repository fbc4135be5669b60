/**
 * Mirrors of state namespaces into Redis, over HTTP or a service binding: the same three calls as
 * `/v1/mirrors/state/{namespace}` (see docs/redis.md), failures as `{ ok: false, error }`.
 * @example const mirrors = httpMirrors(new HttpTransport({ baseUrl, token }));
 *          await mirrors.put("sessions", { redis: { prefix: "sessions:" } });
 */
import { MIRROR_CALLS, type MirrorCalls } from "./calls.ts";
import type { HttpTransport } from "./http.ts";
import { bindingTransport, callsOver, httpTransport } from "./transport.ts";

/** The calls as the Worker declares them (generated: ./calls.ts). */
export { MIRROR_CALLS };

/** The mirror operations, as both transports offer them (the RPC target implements it directly). */
export type MirrorApi = MirrorCalls;

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
