/**
 * One webhook attempt: sign the body for this attempt's timestamp, POST it, and report whether the
 * receiver took it (a 2xx). Redirects are not followed (they could lead to an address the URL rules
 * refuse) and a receiver slower than `timeoutMs` counts as a failure.
 */
import { signatureHeaders } from "../../shared/webhook-signature.ts";

export interface WebhookAttempt {
  url: string;
  key: CryptoKey;
  /** The event id: `webhook-id`, the same on every retry. */
  id: string;
  body: string;
  timeoutMs: number;
}

export type WebhookOutcome = { ok: true } | { ok: false; error: string };

/** Sends one attempt; never throws. */
export async function sendWebhook(attempt: WebhookAttempt): Promise<WebhookOutcome> {
  try {
    const headers = await signatureHeaders(
      attempt.key,
      attempt.id,
      Math.floor(Date.now() / 1000),
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
    return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      return { ok: false, error: `no answer within ${attempt.timeoutMs} ms` };
    }
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
