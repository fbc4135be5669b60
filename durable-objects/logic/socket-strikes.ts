/**
 * Bad messages on a WebSocket: each is answered, the first is logged (one line per socket, not one
 * per message: a flood must not flood the logs too), and a socket that sends more than
 * {@link MAX_BAD_MESSAGES} is closed with `1008` (policy violation).
 */

/** Bad messages a socket may send before it is closed. */
export const MAX_BAD_MESSAGES = 10;

/** The close code for a socket that keeps sending bad messages (RFC 6455 §7.4.1). */
export const POLICY_VIOLATION = 1008;

/** What to do about one more bad message on a socket that had sent `before` of them. */
export interface Strike {
  /** The socket's new count, to keep (in its attachment, so it survives hibernation). */
  count: number;
  /** Log this one: it is the socket's first. */
  log: boolean;
  /** Close the socket with {@link POLICY_VIOLATION}. */
  close: boolean;
}

/**
 * True once a socket has been closed for bad messages: whatever it sent before the close reached
 * it (a flood can have thousands of frames in flight) is dropped unread, with nothing to answer,
 * log, close or store.
 */
export function closing(bad: number): boolean {
  return bad > MAX_BAD_MESSAGES;
}

/** Counts one bad message. */
export function strike(before: number): Strike {
  const count = before + 1;
  return { count, log: count === 1, close: count > MAX_BAD_MESSAGES };
}
