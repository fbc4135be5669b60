/** The check every WebSocket route makes before it hands the request to an object. */
import type { Context } from "hono";
import { ApiError } from "../../shared/errors.ts";

/** Refuses a request without `Upgrade: websocket` with the contract's `400` naming `upgrade`. */
export function requireWebSocketUpgrade(c: Context): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("invalid_request", "this route needs a WebSocket upgrade (Upgrade: websocket)", {
      field: "upgrade",
    });
  }
}
