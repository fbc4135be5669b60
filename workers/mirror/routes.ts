/** `/v1/mirrors/state/{namespace}`: thin HTTP over the mirror of a state namespace into Redis. */
import { unwrap } from "../../shared/errors.ts";
import { commonErrors, errorResponse, jsonBody, jsonResponse } from "../../shared/schemas/common.ts";
import { MirrorDeleted, MirrorRequest, MirrorStatus } from "../../shared/schemas/mirror.ts";
import { NamespaceParams } from "../../shared/schemas/state.ts";
import { operation } from "../http/operation.ts";
import { createRouter } from "../http/router.ts";
import { stateObject } from "../state/object.ts";

const tags = ["State"];
const access = { capability: "state", action: "admin" } as const;
const noMirror = { 404: errorResponse("`not_found`: the namespace has no mirror") };
const configuration =
  "Redis not configured (`UPSTASH_REDIS_REST_URL`, `UPSTASH_REDIS_REST_TOKEN`): `400 not_configured`.";

const putMirror = operation(access, {
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
});

const getMirror = operation(access, {
  operationId: "getStateMirror",
  method: "get",
  path: "/state/{namespace}",
  tags,
  summary: "A mirror's status",
  description: `\`mirroredVersion\` equals \`namespaceVersion\` exactly when the mirror has caught up. ${configuration}`,
  request: { params: NamespaceParams },
  responses: { 200: jsonResponse(MirrorStatus, "The mirror's status"), ...noMirror, ...commonErrors },
});

const deleteMirror = operation(access, {
  operationId: "deleteStateMirror",
  method: "delete",
  path: "/state/{namespace}",
  tags,
  summary: "Stop mirroring a namespace",
  description: `The Redis keys stay. ${configuration}`,
  request: { params: NamespaceParams },
  responses: { 200: jsonResponse(MirrorDeleted, "Stopped"), ...noMirror, ...commonErrors },
});

/** The mirror routes, mounted at `/v1/mirrors`. */
export const mirrorRoutes = createRouter()
  .openapi(putMirror, async (c) => {
    const { namespace } = c.req.valid("param");
    const { redis } = c.req.valid("json");
    return c.json(unwrap(await stateObject(c.env, namespace).putMirror(redis.prefix)), 200);
  })
  .openapi(getMirror, async (c) => {
    const { namespace } = c.req.valid("param");
    return c.json(unwrap(await stateObject(c.env, namespace).getMirror()), 200);
  })
  .openapi(deleteMirror, async (c) => {
    const { namespace } = c.req.valid("param");
    return c.json(unwrap(await stateObject(c.env, namespace).deleteMirror()), 200);
  });
