import { describe, expect, it } from "vitest";
import { MAX_AGE_MS, REFRESH_AFTER_MS, RevocationCache } from "../../../workers/tokens/revocations.ts";

/** A registry stand-in whose revoked list the test edits, counting fetches. */
function setUp() {
  const clock = { at: 1_000_000, now: () => clock.at };
  const registry = { revoked: [] as string[], fetches: 0 };
  const background: Promise<unknown>[] = [];
  const cache = new RevocationCache(async () => {
    registry.fetches++;
    return [...registry.revoked];
  }, clock);
  const ctx = { waitUntil: (p: Promise<unknown>) => void background.push(p) };
  return { clock, registry, cache, ctx, settle: () => Promise.all(background.splice(0)) };
}

describe("RevocationCache", () => {
  it("reads memory between refreshes, refreshes in the background after 5 s, waits after 10 s", async () => {
    const { clock, registry, cache, ctx, settle } = setUp();
    expect(await cache.isRevoked("a", ctx)).toBe(false);
    expect(registry.fetches).toBe(1);
    registry.revoked.push("a");
    clock.at += REFRESH_AFTER_MS - 1;
    expect(await cache.isRevoked("a", ctx)).toBe(false);
    expect(registry.fetches).toBe(1);
    clock.at += 1;
    // Stale but young enough: answered from memory while a refresh runs in the background.
    expect(await cache.isRevoked("a", ctx)).toBe(false);
    await settle();
    expect(registry.fetches).toBe(2);
    expect(await cache.isRevoked("a", ctx)).toBe(true);
  });

  it("never answers from a list older than the bound, even with no traffic in between", async () => {
    const { clock, registry, cache } = setUp();
    expect(await cache.isRevoked("b")).toBe(false);
    registry.revoked.push("b");
    clock.at += MAX_AGE_MS;
    expect(await cache.isRevoked("b")).toBe(true);
    expect(registry.fetches).toBe(2);
  });

  it("waits for a fresh list sooner when the check asks for a younger one (an open socket's)", async () => {
    const { clock, registry, cache } = setUp();
    expect(await cache.isRevoked("s")).toBe(false);
    registry.revoked.push("s");
    clock.at += REFRESH_AFTER_MS;
    expect(await cache.isRevoked("s", undefined, REFRESH_AFTER_MS)).toBe(true);
    expect(registry.fetches).toBe(2);
  });

  it("shares one fetch between concurrent checks, and learns local revocations at once", async () => {
    const { registry, cache } = setUp();
    await Promise.all([cache.isRevoked("x"), cache.isRevoked("y"), cache.isRevoked("z")]);
    expect(registry.fetches).toBe(1);
    cache.add("y");
    expect(await cache.isRevoked("y")).toBe(true);
  });
});
