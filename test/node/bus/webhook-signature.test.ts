import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  generateSecret,
  importSecret,
  SECRET_PREFIX,
  signatureHeaders,
  verifySignature,
} from "../../../shared/webhook-signature.ts";

const body = JSON.stringify({ id: "evt_1", type: "order.created", data: { total: 42, note: "é✓" } });

async function signed(secret: string, timestamp: number) {
  const key = await importSecret(secret);
  if (!key) throw new Error("bad secret");
  return signatureHeaders(key, "evt_1", timestamp, body);
}

describe("Standard Webhooks signatures", () => {
  it("generates whsec_ secrets of at least 24 random bytes, all different", () => {
    const a = generateSecret();
    expect(a.startsWith(SECRET_PREFIX)).toBe(true);
    expect(Buffer.from(a.slice(SECRET_PREFIX.length), "base64").length).toBeGreaterThanOrEqual(24);
    expect(generateSecret()).not.toBe(a);
  });

  it("produces headers the standardwebhooks package verifies", async () => {
    const secret = generateSecret();
    const headers = await signed(secret, Math.floor(Date.now() / 1000));
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("signs exactly as the standardwebhooks package does", async () => {
    const secret = generateSecret();
    const at = new Date(1_700_000_000_000);
    const headers = await signed(secret, 1_700_000_000);
    expect(headers["webhook-signature"]).toBe(new Webhook(secret).sign("evt_1", at, body));
  });

  it("verifies the package's signatures and refuses tampering, stale timestamps and wrong secrets", async () => {
    const secret = generateSecret();
    const now = 1_700_000_000;
    const signature = new Webhook(secret).sign("evt_1", new Date(now * 1000), body);
    const message = { id: "evt_1", timestamp: String(now), body, signature };
    expect(await verifySignature(secret, message, now)).toEqual({ ok: true });
    expect(
      await verifySignature(secret, { ...message, signature: `v1,bogus v2,x ${signature}` }, now),
    ).toEqual({
      ok: true,
    });
    expect(await verifySignature(secret, { ...message, body: `${body} ` }, now)).toMatchObject({
      reason: "bad_signature",
    });
    expect(await verifySignature(secret, message, now + 301)).toMatchObject({ reason: "bad_timestamp" });
    expect(await verifySignature(generateSecret(), message, now)).toMatchObject({ reason: "bad_signature" });
    expect(await verifySignature("whsec_%%%", message, now)).toMatchObject({ reason: "bad_secret" });
  });
});
