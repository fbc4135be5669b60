import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { fromBase64Url, keyRing, openToken, signToken, toBase64Url } from "../../../workers/tokens/codec.ts";

/** The ring of a setting that lists at least one key. */
async function ringOf(setting: string) {
  const ring = await keyRing(setting);
  if (!ring) throw new Error(`no key in ${setting}`);
  return ring;
}

const payload = { id: "tk_1", scopes: [{ resource: "locks:a*", actions: ["read" as const] }], exp: 1e13 };

describe("token codec", () => {
  it("round-trips base64url and accepts only the canonical text of some bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(fromBase64Url(text)).toEqual(bytes);
        expect(fromBase64Url(`${text}=`)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        const bytes = fromBase64Url(text);
        if (bytes) expect(toBase64Url(bytes)).toBe(text);
      }),
    );
  });

  it("opens what it signed, under every listed key, and nothing else", async () => {
    const ring = await ringOf("k1");
    const token = await signToken(ring, payload);
    expect(token).toMatch(/^sy1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await openToken(ring, token)).toEqual(payload);
    expect(await openToken(await ringOf("k2, k1"), token)).toEqual(payload);
    expect(await openToken(await ringOf("k2"), token)).toBeNull();
    expect(await keyRing(" , ")).toBeNull();
    const [v, kid, body, sig] = token.split(".") as [string, string, string, string];
    // The signature covers the kid too: a token cannot be moved to another key's id.
    const ring2 = await ringOf("k2,k1");
    const otherKid = [...ring2.verifiers.keys()].find((k) => k !== kid) as string;
    expect(await openToken(ring2, `${v}.${otherKid}.${body}.${sig}`)).toBeNull();
    expect(await openToken(ring, `${v}.${kid}.${body}.${sig}.`)).toBeNull();
    expect(await openToken(ring, `sy2.${kid}.${body}.${sig}`)).toBeNull();
  });

  it("compares every well-formed signature only through crypto.subtle.verify (constant time), never by hand", async () => {
    const ring = await ringOf("k1");
    const token = await signToken(ring, payload);
    const head = token.slice(0, token.lastIndexOf(".") + 1);
    const verify = vi.spyOn(crypto.subtle, "verify");
    try {
      // The right signature, one differing in its first byte, and one differing in its last.
      const sig = token.slice(head.length);
      const firstFlipped = `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
      const lastFlipped = `${sig.slice(0, -1)}${sig.at(-1) === "A" ? "E" : "A"}`;
      for (const candidate of [sig, firstFlipped, lastFlipped]) await openToken(ring, head + candidate);
      expect(verify).toHaveBeenCalledTimes(3);
      for (const call of verify.mock.calls) expect((call[2] as Uint8Array).byteLength).toBe(32);
    } finally {
      verify.mockRestore();
    }
  });
});
