/** Answering a WebSocket client's close, the same way in every object that accepts sockets. */

/** Answers a client's close; codes that cannot be sent back (1005, 1006) are answered with 1000. */
export function answerClose(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
  } catch {
    // Already closed by the runtime's automatic close reply.
  }
}
