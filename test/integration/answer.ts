/**
 * What the Worker answers over HTTP, as the node-side tests read it: the status and the JSON body,
 * unchecked until a test reads the body through the contract's schema (shared/schemas).
 */
import { z } from "zod";
import { ErrorSchema } from "../../shared/schemas/common.ts";

/** A status and a JSON body (undefined when empty), not yet trusted. */
export interface Answer {
  status: number;
  body: unknown;
}

/** Sends a JSON request with the bearer `token` and reads the answer. */
export async function callWorker(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readAnswer(res.status, await res.text());
}

/** An answer from its status and body text. */
export function readAnswer(status: number, text: string): Answer {
  return { status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * The body of `answer` as `schema` describes it. A body of another shape fails the test here, with
 * the status and the body, rather than as an `undefined` further on.
 * @example const { seqs } = bodyOf(Published, await call("POST", `/v1/topics/${topic}/events`, event));
 */
export function bodyOf<S extends z.ZodType>(schema: S, answer: Answer): z.output<S> {
  const parsed = schema.safeParse(answer.body);
  if (parsed.success) return parsed.data;
  throw new Error(
    `HTTP ${answer.status} answered ${JSON.stringify(answer.body)}, not the expected body: ${z.prettifyError(parsed.error)}`,
  );
}

/** The error code of an answer in the contract's error shape, or undefined for any other body. */
export function errorCode(answer: Answer): string | undefined {
  const parsed = ErrorSchema.safeParse(answer.body);
  return parsed.success ? parsed.data.error.code : undefined;
}
