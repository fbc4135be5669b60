/**
 * A call that may wait inside an object (a lock's queue, a task's end) for an HTTP client that may
 * go away. The runtime aborts the request's signal (compatibility flag enable_request_signal) but
 * not the object's call, so the Worker tells the object itself: `call` gets a ticket to wait under,
 * and `leave(ticket)` runs in the background once the client has gone. Over RPC (no signal) the
 * call goes without a ticket.
 */
import type { CallContext } from "./table.ts";

export async function leavingOnAbort<T>(
  { signal, waitUntil }: CallContext,
  call: (ticket?: string) => Promise<T>,
  leave: (ticket: string) => Promise<unknown>,
): Promise<T> {
  if (!signal || !waitUntil) return call();
  const ticket = crypto.randomUUID();
  const onAbort = () => waitUntil(leave(ticket));
  const pending = call(ticket);
  // A client gone before the call went out never fires `abort`: it leaves at once. The object takes
  // one stub's calls in order, so the leave comes after the wait it ends.
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await pending;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
