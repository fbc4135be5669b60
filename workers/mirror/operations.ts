/**
 * `/v1/mirrors/state/{namespace}`: the mirror of a state namespace into Redis, each operation
 * declared once (see workers/declare/table.ts).
 */
import { redisConfigProblem } from "../../shared/redis/config.ts";
import { errorResponse, jsonResponse } from "../../shared/schemas/common.ts";
import { MirrorDeleted, MirrorRequest, MirrorStatus } from "../../shared/schemas/mirror.ts";
import { NamespaceParams } from "../../shared/schemas/state.ts";
import { declareFor } from "../declare/declare-for.ts";
import { stateObject } from "../state/object.ts";

const state = declareFor({
  capability: "state",
  tags: ["State"],
  params: { namespace: NamespaceParams.shape.namespace },
});
const noMirror = { 404: errorResponse("`not_found`: the namespace has no mirror") };
const configuration =
  "Redis not configured (`UPSTASH_REDIS_REST_URL`, `UPSTASH_REDIS_REST_TOKEN`): `400 not_configured`.";

/** The mirror operations: routes at `/v1/mirrors`, methods of `env.SWITCHYARD.mirrors()`. */
export const mirrorOperations = {
  put: state.admin("putStateMirror", "PUT /state/{namespace}", {
    summary: "Mirror a namespace into Redis",
    description:
      "Copies every live key to the Redis key `<prefix><key>` (JSON text `{value, version, updatedAt}`), then applies " +
      "every change in version order; deletes and expiries delete the key, a TTL becomes `PEXPIREAT`. The same prefix " +
      "again changes nothing; another prefix copies every live key again under it (keys under the old one stay). " +
      configuration,
    body: MirrorRequest,
    responses: { 200: jsonResponse(MirrorStatus, "The mirror's status") },
    configured: redisConfigProblem,
    call: (env, { params, body }) => stateObject(env, params.namespace).putMirror(body.redis.prefix),
  }),

  get: state.admin("getStateMirror", "GET /state/{namespace}", {
    summary: "A mirror's status",
    description: `\`mirroredVersion\` equals \`namespaceVersion\` exactly when the mirror has caught up. ${configuration}`,
    responses: { 200: jsonResponse(MirrorStatus, "The mirror's status"), ...noMirror },
    configured: redisConfigProblem,
    call: (env, { params }) => stateObject(env, params.namespace).getMirror(),
  }),

  delete: state.admin("deleteStateMirror", "DELETE /state/{namespace}", {
    summary: "Stop mirroring a namespace",
    description: `The Redis keys stay. ${configuration}`,
    responses: { 200: jsonResponse(MirrorDeleted, "Stopped"), ...noMirror },
    configured: redisConfigProblem,
    call: (env, { params }) => stateObject(env, params.namespace).deleteMirror(),
  }),
};
