import { describe, expect, it } from "vitest";
import { call, unique } from "../helpers.ts";

/** A key's path: the answers are typed by the route. */
const keyPath = (ns: string, key: string): `/v1/state/${string}/${string}` =>
  `/v1/state/${ns}/${encodeURIComponent(key)}`;

describe("concurrent writers", () => {
  it("50 compare-and-set writers on one key: exactly one wins per version, the others get 412", async () => {
    const ns = unique("cas");
    await call("PUT", keyPath(ns, "k"), { value: 0 });
    let version = 1;
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(
            "PUT",
            keyPath(ns, "k"),
            { value: `r${round}-w${i}` },
            { headers: { "If-Match": `"${version}"` } },
          ),
        ),
      );
      const winners = results.filter((r) => r.status === 200);
      const losers = results.filter((r) => r.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(49);
      const next = winners[0]?.body.version as number;
      for (const l of losers) {
        expect(l.status).toBe(412);
        expect(l.error).toMatchObject({ code: "version_mismatch", details: { currentVersion: next } });
      }
      const read = await call("GET", keyPath(ns, "k"));
      expect(read.body.version).toBe(next);
      expect(read.body.value).toBe(`r${round}-w${results.indexOf(winners[0] as (typeof results)[number])}`);
      version = next;
    }
  });

  it("200 concurrent increments sum exactly", async () => {
    const ns = unique("inc");
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        call("POST", `${keyPath(ns, "n")}/increment`, { by: (i % 5) + 1 }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const expected = Array.from({ length: 200 }, (_, i) => (i % 5) + 1).reduce((a, b) => a + b, 0);
    expect((await call("GET", keyPath(ns, "n"))).body).toMatchObject({ value: expected, version: 200 });
    // Every increment saw a distinct version.
    expect(new Set(results.map((r) => r.body.version)).size).toBe(200);
  });
});
