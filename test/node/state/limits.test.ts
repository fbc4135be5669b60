import { describe, expect, it } from "vitest";
import { encodeValue, keyProblem, MAX_KEY_BYTES } from "../../../durable-objects/logic/state-limits.ts";
import { valueBytes } from "../../../shared/schemas/common.ts";

describe("keyProblem", () => {
  it.each([
    ["one letter", "a"],
    ["slashes", "users/42/profile"],
    ["spaces", "with spaces"],
    ["Unicode", "日本語/🔑"],
    ["512 bytes", "é".repeat(MAX_KEY_BYTES / 2)],
    ["a format character", "\u200b zero-width space"],
  ])("accepts %s", (_label, key) => {
    expect(keyProblem(key)).toBeUndefined();
  });

  it.each([
    ["empty", "", "empty"],
    ["513 ASCII bytes", "x".repeat(MAX_KEY_BYTES + 1), "bytes"],
    ["513 bytes of two-byte letters", `${"é".repeat(MAX_KEY_BYTES / 2)}x`, "bytes"],
    ["a newline", "a\nb", "control"],
    ["NUL", "\u0000", "control"],
    ["DEL", "\u007f", "control"],
    ["a C1 control", "\u0085", "control"],
    ["a lone high surrogate", "\ud83d", "Unicode"],
    ["a lone low surrogate", "a\udc00b", "Unicode"],
  ])("refuses %s", (_label, key, why) => {
    expect(keyProblem(key)).toContain(why);
  });
});

describe("encodeValue", () => {
  it("counts a string by its bytes and anything else by its JSON text", () => {
    expect(valueBytes("ab", '"ab"')).toBe(2);
    expect(valueBytes(["ab"], '["ab"]')).toBe(6);
    expect(encodeValue("x".repeat(256 * 1024))).toEqual({ ok: true, value: `"${"x".repeat(256 * 1024)}"` });
  });

  it("refuses values over 256 KiB with payload_too_large", () => {
    const over = encodeValue("é".repeat(128 * 1024 + 1));
    expect(over.ok || over.error.code).toBe("payload_too_large");
    // `["…"]` adds 4 bytes of JSON around the string.
    expect(encodeValue(["x".repeat(256 * 1024 - 4)]).ok).toBe(true);
    const array = encodeValue(["x".repeat(256 * 1024 - 3)]);
    expect(array.ok || array.error.code).toBe("payload_too_large");
  });

  it("refuses what has no JSON text", () => {
    const fn = encodeValue(() => 1, "success.0.value");
    expect(fn.ok || fn.error).toMatchObject({
      code: "invalid_request",
      details: { field: "success.0.value" },
    });
    expect(encodeValue(undefined).ok).toBe(false);
  });
});
