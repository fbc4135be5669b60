/**
 * When a client's subscription or consumer ends for good instead of reconnecting. The server
 * closes a socket `1008` with {@link TOKEN_LAPSED_REASON} once the token that opened it has expired
 * or been revoked, and refuses an upgrade or a request with `401` or `403` while the token does not
 * allow it: trying again with the same token cannot help. The caller hears why, and may start
 * again with a fresh token.
 */
import { ApiError, isErrorCode, TOKEN_LAPSED_REASON } from "../errors.ts";

/** What a WebSocket close event says. */
export interface CloseInfo {
  code?: number;
  reason?: string;
}

/** The error that ends a subscription for good after `cause` (a close, or a failed call), if it does. */
export function endsForGood(cause: unknown): ApiError | undefined {
  if (cause instanceof ApiError) {
    return cause.code === "unauthorized" || cause.code === "forbidden" ? cause : undefined;
  }
  const close = cause as CloseInfo | undefined;
  return close?.code === 1008 && close.reason === TOKEN_LAPSED_REASON
    ? new ApiError("unauthorized", TOKEN_LAPSED_REASON)
    : undefined;
}

/** The error of an upgrade the server answered without a socket: its body's code, else `unavailable`. */
export async function upgradeRefusal(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => undefined)) as
    | { error?: { code?: unknown; message?: string } }
    | undefined;
  const code = isErrorCode(body?.error?.code) ? body.error.code : "unavailable";
  return new ApiError(code, body?.error?.message ?? `WebSocket upgrade refused: HTTP ${res.status}`);
}
