/**
 * One webhook attempt: sign the body for this attempt's timestamp, POST it, and report whether the
 * receiver took it (a 2xx). Redirects are not followed (they could lead to an address the URL rules
 * refuse) and a receiver slower than `timeoutMs` counts as a failure. A failure says whether the
 * receiver itself looks down (no connection, no answer in time, 502/503/504), for its health.
 */
import { signatureHeaders } from "../../shared/webhook-signature.ts";
import type { AttemptOutcome } from "../logic/receiver-health.ts";

/**
 * `lastError` of an attempt that got no HTTP answer: the same words whatever the cause (refused,
 * reset, DNS, TLS, timeout), so that it never tells an open port from a closed one.
 */
export const CONNECTION_FAILED = "connection failed";

/** Answers of a gateway in front of a receiver that is not there. */
const DOWN_STATUSES = new Set([502, 503, 504]);

export interface WebhookAttempt {
  url: string;
  key: CryptoKey;
  /** The event id: `webhook-id`, the same on every retry. */
  id: string;
  body: string;
  timeoutMs: number;
  /** When it is sent, in ms (the object's clock): `webhook-timestamp`. */
  sentAt: number;
}

/** How a webhook attempt went: the outcome every transport reports. */
export type WebhookOutcome = AttemptOutcome;

/** Sends one attempt; never throws. */
export async function sendWebhook(attempt: WebhookAttempt): Promise<WebhookOutcome> {
  try {
    const headers = await signatureHeaders(
      attempt.key,
      attempt.id,
      Math.floor(attempt.sentAt / 1000),
      attempt.body,
    );
    const res = await fetch(attempt.url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "switchyard-bus/1" },
      body: attempt.body,
      redirect: "manual",
      signal: AbortSignal.timeout(attempt.timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, error: `HTTP ${res.status}`, receiverDown: DOWN_STATUSES.has(res.status) };
  } catch {
    return { ok: false, error: CONNECTION_FAILED, receiverDown: true };
  }
}
