/** `(await env.SWITCHYARD.mirrors()).put("sessions", { redis: { prefix: "sessions:" } })`. */
import { rpcTargetOf } from "../declare/rpc-target.ts";
import { mirrorOperations } from "./operations.ts";

export const MirrorRpc = rpcTargetOf("state", mirrorOperations);
export type MirrorRpc = InstanceType<typeof MirrorRpc>;
