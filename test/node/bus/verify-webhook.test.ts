import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook } from "../../../shared/client/bus.ts";
import { ApiError } from "../../../shared/errors.ts";
import { generateSecret } from "../../../shared/webhook-signature.ts";

const event = { id: "evt_1", topic: "orders", type: "order.created", data: { n: 1 }, seq: 1 };
const body = JSON.stringify(event);

function request(secret: string, at: Date, payload = body): Request {
  const signature = new Webhook(secret).sign("evt_1", at, payload);
  return new Request("http://receiver/hook", {
    method: "POST",
    body: payload,
    headers: {
      "webhook-id": "evt_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    },
  });
}

describe("verifyWebhook", () => {
  it("returns the event of a correctly signed, fresh request", async () => {
    const secret = generateSecret();
    expect(await verifyWebhook(request(secret, new Date()), secret)).toEqual(event);
  });

  it("refuses a wrong secret, a changed body and a timestamp outside the tolerance", async () => {
    const secret = generateSecret();
    await expect(verifyWebhook(request(generateSecret(), new Date()), secret)).rejects.toBeInstanceOf(
      ApiError,
    );
    const tampered = request(secret, new Date());
    const changed = new Request(tampered.url, {
      method: "POST",
      headers: tampered.headers,
      body: `${body} `,
    });
    await expect(verifyWebhook(changed, secret)).rejects.toThrow(/bad_signature/);
    const old = new Date(Date.now() - 10 * 60_000);
    await expect(verifyWebhook(request(secret, old), secret)).rejects.toThrow(/bad_timestamp/);
    expect(await verifyWebhook(request(secret, old), secret, { toleranceSeconds: 3600 })).toEqual(event);
  });
});
