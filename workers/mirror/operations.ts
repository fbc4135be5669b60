/**
 * `/v1/mirrors/state/{namespace}`: the mirror of a state namespace into Redis, each operation
 * declared once (see workers/declare/table.ts).
 */
import { commonErrors, errorResponse, jsonBody, jsonResponse } from "../../shared/schemas/common.ts";
import { MirrorDeleted, MirrorRequest, MirrorStatus } from "../../shared/schemas/mirror.ts";
import { NamespaceParams } from "../../shared/schemas/state.ts";
import { declare } from "../declare/table.ts";
import { stateObject } from "../state/object.ts";

const tags = ["State"];
const access = { capability: "state", action: "admin" } as const;
const noMirror = { 404: errorResponse("`not_found`: the namespace has no mirror") };
const configuration =
  "Redis not configured (`UPSTASH_REDIS_REST_URL`, `UPSTASH_REDIS_REST_TOKEN`): `400 not_configured`.";

/** The mirror operations: routes at `/v1/mirrors`, methods of `env.SWITCHYARD.mirrors()`. */
export const mirrorOperations = {
  put: declare({
    access,
    route: {
      operationId: "putStateMirror",
      method: "put",
      path: "/state/{namespace}",
      tags,
      summary: "Mirror a namespace into Redis",
      description:
        "Copies every live key to the Redis key `<prefix><key>` (JSON text `{value, version, updatedAt}`), then applies " +
        "every change in version order; deletes and expiries delete the key, a TTL becomes `PEXPIREAT`. The same prefix " +
        "again changes nothing; another prefix copies every live key again under it (keys under the old one stay). " +
        configuration,
      request: { params: NamespaceParams, body: jsonBody(MirrorRequest) },
      responses: { 200: jsonResponse(MirrorStatus, "The mirror's status"), ...commonErrors },
    },
    rpc: ["namespace", "body"],
    call: (env, { params, body }) => stateObject(env, params.namespace).putMirror(body.redis.prefix),
  }),

  get: declare({
    access,
    route: {
      operationId: "getStateMirror",
      method: "get",
      path: "/state/{namespace}",
      tags,
      summary: "A mirror's status",
      description: `\`mirroredVersion\` equals \`namespaceVersion\` exactly when the mirror has caught up. ${configuration}`,
      request: { params: NamespaceParams },
      responses: { 200: jsonResponse(MirrorStatus, "The mirror's status"), ...noMirror, ...commonErrors },
    },
    rpc: ["namespace"],
    call: (env, { params }) => stateObject(env, params.namespace).getMirror(),
  }),

  delete: declare({
    access,
    route: {
      operationId: "deleteStateMirror",
      method: "delete",
      path: "/state/{namespace}",
      tags,
      summary: "Stop mirroring a namespace",
      description: `The Redis keys stay. ${configuration}`,
      request: { params: NamespaceParams },
      responses: { 200: jsonResponse(MirrorDeleted, "Stopped"), ...noMirror, ...commonErrors },
    },
    rpc: ["namespace"],
    call: (env, { params }) => stateObject(env, params.namespace).deleteMirror(),
  }),
};
