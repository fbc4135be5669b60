/**
 * The contract's error vocabulary: one code → one HTTP status, shared by the Worker (which answers
 * with it), the Durable Objects (which return it in result unions, since thrown errors lose their
 * class across RPC) and the client (which reads it back).
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  not_configured: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  lock_held: 409,
  not_holder: 409,
  lease_mismatch: 409,
  not_a_number: 409,
  conflict: 409,
  version_mismatch: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  backpressure: 429,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

/** A stable snake_case error code from the contract. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** What every error response carries under `error`. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** The body of every error response: `{"error": {"code", "message", "details"?}}`. */
export interface ErrorBody {
  error: ErrorInfo;
}

/**
 * The outcome of an operation that can fail in an expected way. Durable Object RPC methods
 * return these instead of throwing, so the code survives the trip to the Worker.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** Wraps a success value. */
export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/** Wraps an expected failure. */
export const fail = <T = never>(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): Result<T> => ({ ok: false, error: details ? { code, message, details } : { code, message } });

/**
 * An error with a contract code. Thrown in the Worker (and by the client); the Worker's one
 * error handler turns it into a response with the matching status.
 */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  /** Extra response headers, e.g. `Retry-After` for backpressure. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  /** The HTTP status the contract gives this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The contract's response body for this error. */
  toBody(): ErrorBody {
    const error: ErrorInfo = { code: this.code, message: this.message };
    if (this.details) error.details = this.details;
    return { error };
  }

  /** Rebuilds an error from a response body or a failed result. */
  static from(info: ErrorInfo): ApiError {
    return new ApiError(info.code, info.message, info.details);
  }
}

/** `429 rate_limited`, with `details.retryAfterMs` and `Retry-After` in whole seconds, rounded up. */
export function rateLimited(message: string, retryAfterMs: number): ApiError {
  return new ApiError(
    "rate_limited",
    message,
    { retryAfterMs },
    {
      "Retry-After": String(Math.ceil(retryAfterMs / 1000)),
    },
  );
}

/**
 * The reason a relayed socket is closed with (`1008`) once the token that opened it has expired or
 * been revoked: the server's relay sends it, and the clients stop reconnecting on it.
 */
export const TOKEN_LAPSED_REASON = "the token expired or was revoked";

/** Returns a result's value or throws its error as an {@link ApiError}. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw ApiError.from(result.error);
}

/** True when `code` is one of the contract's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_STATUS, code);
}
