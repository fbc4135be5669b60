import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { CatalogObject } from "../../../durable-objects/catalog/object.ts";
import type { Env } from "../../../shared/env.ts";
import { forgetName, noteName } from "../../../workers/catalog/note.ts";
import { listCatalog, visibleEntries } from "../../../workers/catalog/routes.ts";
import type { Action, Background, Principal } from "../../../workers/http/access.ts";
import { unique } from "../helpers.ts";

// The first test also starts the runtime, which a loaded machine makes slow.
vi.setConfig({ testTimeout: 15_000 });

/** The real catalog namespace, counting how often the Worker reaches for a catalog object. */
function countingEnv() {
  const counter = { writes: 0 };
  const CATALOG = {
    getByName: (name: string) => {
      counter.writes++;
      return env.CATALOG.getByName(name);
    },
  } as unknown as DurableObjectNamespace<CatalogObject>;
  return { env: { ...env, CATALOG } as Env, counter };
}

/** Collects the background writes, so that a test can await them instead of polling. */
function background() {
  const pending: Promise<unknown>[] = [];
  const ctx: Background = { waitUntil: (p) => void pending.push(p) };
  return { ctx, settled: () => Promise.all(pending.splice(0)) };
}

/** noteName for queue names on a {@link countingEnv}, its background writes collected. */
function noting() {
  const { env: counted, counter } = countingEnv();
  const { ctx, settled } = background();
  const note = (name: string, at: number) => noteName(counted, ctx, "queues", name, at);
  return { env: counted, counter, settled, note };
}

const entry = async (capability: "queues" | "locks", name: string) =>
  (await env.CATALOG.getByName(capability).list({ prefix: name, after: "", limit: 1 })).items.find(
    (i) => i.name === name,
  );

describe("noteName", () => {
  it("writes to the catalog object once per new name, however many requests use it", async () => {
    const { counter, settled, note } = noting();
    const names = [unique("hot"), unique("hot"), unique("hot")];
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) note(names[i % 3] as string, t0 + i);
    await settled();
    expect(counter.writes).toBe(3);
    for (const name of names) expect(await entry("queues", name)).toBeDefined();
  });

  it("writes a name in use again at most every 5 s", async () => {
    const { counter, settled, note } = noting();
    const name = unique("refresh");
    const t0 = Date.now();
    note(name, t0);
    note(name, t0 + 4_999);
    await settled();
    expect(counter.writes).toBe(1);
    expect(await entry("queues", name)).toEqual({ name, createdAt: t0, lastUsedAt: t0 });
    note(name, t0 + 5_000);
    note(name, t0 + 5_001);
    await settled();
    expect(counter.writes).toBe(2);
    expect(await entry("queues", name)).toEqual({ name, createdAt: t0, lastUsedAt: t0 + 5_000 });
  });

  it("never moves lastUsedAt back (a late write from another isolate)", async () => {
    const name = unique("late");
    const catalog = env.CATALOG.getByName("locks");
    await catalog.note(name, 2_000);
    await catalog.note(name, 1_000);
    expect(await entry("locks", name)).toEqual({ name, createdAt: 2_000, lastUsedAt: 2_000 });
  });

  it("survives a failed catalog write and tries again on the next request", async () => {
    const broken = {
      ...env,
      CATALOG: {
        getByName: () => {
          throw new Error("catalog unavailable");
        },
      },
    } as unknown as Env;
    const { ctx, settled } = background();
    const name = unique("retry");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => noteName(broken, ctx, "queues", name, Date.now())).not.toThrow();
    await settled();
    expect(errors).toHaveBeenCalledOnce();
    errors.mockRestore();
    const next = noting();
    next.note(name, Date.now());
    await next.settled();
    expect(next.counter.writes).toBe(1);
    expect(await entry("queues", name)).toBeDefined();
  });

  it("ignores db, which has no names", async () => {
    const { env: counted, counter } = countingEnv();
    noteName(counted, undefined, "db", "cluster");
    expect(counter.writes).toBe(0);
  });
});

describe("forgetName", () => {
  it("removes the name, and the next write in this isolate registers it again", async () => {
    const { env: counted, counter, settled, note } = noting();
    const name = unique("gone");
    const t0 = Date.now();
    note(name, t0);
    await settled();
    expect(await entry("queues", name)).toBeDefined();

    await forgetName(counted, "queues", name);
    expect(await entry("queues", name)).toBeUndefined();

    note(name, t0 + 1);
    await settled();
    expect(counter.writes).toBe(3);
    expect(await entry("queues", name)).toEqual({ name, createdAt: t0 + 1, lastUsedAt: t0 + 1 });
  });

  it("accepts a name the catalog never held", async () => {
    await expect(forgetName(env, "queues", unique("never"))).resolves.toBeUndefined();
  });
});

describe("the catalog object", () => {
  it("lists any set of names in byte order, prefix by prefix, page by page", async () => {
    const nameChar = fc.constantFrom(..."aAbB019._:-");
    const name = fc
      .tuple(fc.constantFrom(..."aAbB01"), fc.array(nameChar, { maxLength: 6 }))
      .map(([h, t]) => h + t.join(""));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(name, { minLength: 0, maxLength: 30 }),
        fc.constantFrom("", "a", "A", "a-", "b.", "0"),
        fc.integer({ min: 1, max: 7 }),
        async (names, prefix, limit) => {
          // A catalog object of its own per run: the property sees only its names.
          const catalog = env.CATALOG.getByName(unique("prop"));
          for (const n of names) await catalog.note(n, 1);
          const bytes = (s: string) => [...new TextEncoder().encode(s)];
          const expected = names
            .filter((n) => n.startsWith(prefix))
            .sort((a, b) => {
              const x = bytes(a);
              const y = bytes(b);
              for (let i = 0; i < Math.min(x.length, y.length); i++) {
                if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
              }
              return x.length - y.length;
            });
          const listed: string[] = [];
          let after = "";
          for (;;) {
            const page = await catalog.list({ prefix, after, limit });
            expect(page.items.length).toBeLessThanOrEqual(limit);
            listed.push(...page.items.map((i) => i.name));
            if (page.next === null) break;
            after = page.next;
          }
          expect(listed).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("a scoped token's listing", () => {
  const scoped = (...scopes: Array<[string, Action[]]>): Principal => ({
    kind: "scoped",
    id: "tok_test",
    expiresAt: Date.now() + 60_000,
    scopes: scopes.map(([resource, actions]) => ({ resource, actions })),
  });
  const item = (name: string) => ({ name, createdAt: 1, lastUsedAt: 1 });

  it("keeps only names a read scope of the capability covers", () => {
    const principal = scoped(
      ["queues:tenant-1:*", ["read"]],
      ["queues:exact", ["read", "write"]],
      ["queues:tenant-2:*", ["write"]],
      ["locks:*", ["read"]],
    );
    const items = ["exact", "exact2", "tenant-1:a", "tenant-2:a", "tenant-10"].map(item);
    expect(visibleEntries(principal, "queues", items).map((i) => i.name)).toEqual(["exact", "tenant-1:a"]);
    expect(visibleEntries(principal, "locks", items)).toHaveLength(5);
    expect(visibleEntries(principal, "topics", items)).toEqual([]);
    expect(visibleEntries({ kind: "admin" }, "queues", items)).toHaveLength(5);
  });

  it("filters before paging: pages may be short or empty while the cursor goes on", async () => {
    const p = unique("scope");
    const names = ["a1", "a2", "a3", "b1", "b2", "b3", "c1"].map((s) => `${p}-${s}`);
    for (const n of names) await env.CATALOG.getByName("topics").note(n, 1);
    const principal = scoped([`topics:${p}-b*`, ["read"]]);
    const pages: string[][] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listCatalog(env, principal, "topics", { prefix: p, limit: 3, cursor });
      pages.push(page.items.map((i) => i.name.slice(p.length + 1)));
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
    expect(pages).toEqual([[], ["b1", "b2", "b3"], []]);
  });
});
