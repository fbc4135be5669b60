import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ID_SECRET_BYTES,
  mintTokenId,
  provesMinted,
  tokenIdKey,
} from "../../../durable-objects/logic/token-ids.ts";
import { toBase64Url } from "../../../workers/tokens/codec.ts";

const keyOf = () => tokenIdKey(crypto.getRandomValues(new Uint8Array(ID_SECRET_BYTES)).buffer);

describe("token ids", () => {
  it("are proved by the key that minted them, and by no other", async () => {
    const key = await keyOf();
    const other = await keyOf();
    const id = await mintTokenId(key);
    expect(id).toMatch(/^tk_[A-Za-z0-9_-]{32}$/);
    expect(await provesMinted(key, id)).toBe(true);
    expect(await provesMinted(other, id)).toBe(false);
    expect(await mintTokenId(key)).not.toBe(id);
  });

  it("refuses any id changed by one character, and ids of another shape", async () => {
    const key = await keyOf();
    const id = await mintTokenId(key);
    await fc.assert(
      fc.asyncProperty(fc.nat(id.length - 1), fc.constantFrom(..."AQgw_-z9"), async (at, c) => {
        const changed = id.slice(0, at) + c + id.slice(at + 1);
        if (changed !== id) expect(await provesMinted(key, changed)).toBe(false);
      }),
    );
    const random = `tk_${toBase64Url(crypto.getRandomValues(new Uint8Array(24)))}`;
    for (const text of [
      random,
      "tk_never",
      "",
      id.slice(3),
      `${id}A`,
      id.slice(0, -1),
      `tk_${"A".repeat(32)}=`,
    ]) {
      expect(await provesMinted(key, text)).toBe(false);
    }
  });
});
