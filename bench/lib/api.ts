/** A minimal keep-alive JSON client for benchmarks (no retries, no validation: measure the server). */
import type { BenchContext } from "./types.ts";

/** Sends a JSON request and returns status and parsed body. */
export function client(ctx: BenchContext) {
  const headers = { authorization: `Bearer ${ctx.token}`, "content-type": "application/json" };
  return async function send(method: string, path: string, body?: unknown) {
    const res = await fetch(`${ctx.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: benchmark code reads the fields it just asked for
    const json: any = await res.json();
    return { status: res.status, body: json };
  };
}

/** Formats `part` as a percentage of `whole`. */
export const percentOf = (part: number, whole: number) => `${Math.round((100 * part) / whole)} % of /health`;
