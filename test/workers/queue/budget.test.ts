import { describe, expect, it } from "vitest";
import { PAGE_BYTES } from "../../../durable-objects/logic/page-budget.ts";
import { call, unique } from "../helpers.ts";
import { enqueue, lease, qpath } from "./queue-helpers.ts";

/** A string payload whose stored JSON text (with its quotes) is exactly 256 KiB. */
const payload = "x".repeat(256 * 1024 - 2);
/** How many such payloads fit in one answer: 32. */
const FIT = PAGE_BYTES / (256 * 1024);
const TASKS = 40;

/** Enqueues 40 tasks of 256 KiB (one request each: a body may not pass 1 MiB). */
async function bigTasks(q: string, extra: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < TASKS; i++) ids.push(...(await enqueue(q, { payload, ...extra })));
  return ids;
}

/** A queue's list that pages with a cursor: its dead letters or a state's tasks (`/tasks?state=...`). */
type List = "/dead" | `/tasks?${string}`;

/** One page of the queue's list, from `cursor`. */
function page(q: string, list: List, cursor: string) {
  const query = `limit=1000&cursor=${encodeURIComponent(cursor)}`;
  return list === "/dead"
    ? call("GET", qpath(q, `/dead?${query}`))
    : call("GET", qpath(q, `${list}&${query}`));
}

/** Follows a list's cursor to the end; returns each page's size and answer length. */
async function pages(q: string, list: List): Promise<Array<{ ids: string[]; bytes: number }>> {
  const out: Array<{ ids: string[]; bytes: number }> = [];
  let cursor: string | null = "";
  while (cursor !== null && out.length < 10) {
    const res = await page(q, list, cursor);
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    out.push({ ids: res.body.tasks.map((t: { id: string }) => t.id), bytes: res.text.length });
    cursor = res.body.cursor;
  }
  return out;
}

describe("answers that carry payloads stop at 8 MiB of payload text", () => {
  it("a lease of max 1000 hands out the 32 that fit and leaves the rest ready", async () => {
    const q = unique("q");
    const ids = await bigTasks(q);
    const res = await call("POST", qpath(q, "/lease"), { max: 1000 });
    expect(res.status).toBe(200);
    // The old 16 MiB cap handed out all 40 (10 MiB) in one answer.
    expect(res.body.tasks.map((t: { id: string }) => t.id)).toEqual(ids.slice(0, FIT));
    expect(res.text.length).toBeLessThan(PAGE_BYTES + 64 * 1024);
    const stats = (await call("GET", qpath(q, "/stats"))).body;
    expect(stats).toMatchObject({ leased: FIT, ready: { normal: TASKS - FIT } });
    const rest = await lease(q, { max: 1000 });
    expect(rest.map((t) => t.id)).toEqual(ids.slice(FIT));
    expect(rest.every((t) => t.attempt === 1 && t.payload === payload)).toBe(true);
  });

  it("always hands out one task, and small tasks fill the rest of the budget", async () => {
    const q = unique("q");
    const [small] = await enqueue(q, { payload: 1, priority: "critical" });
    const ids = await bigTasks(q);
    const first = await lease(q, { max: 1000 });
    // The small one and 31 big ones: a 32nd big one would pass the budget by a byte.
    expect(first.map((t) => t.id)).toEqual([small, ...ids.slice(0, FIT - 1)]);
    expect(await lease(q, { max: 1 })).toHaveLength(1);
  });

  it("dead-letter pages stop under 8 MiB with a cursor that continues", async () => {
    const q = unique("q");
    const ids = await bigTasks(q, { maxAttempts: 1 });
    const leased = [...(await lease(q, { max: 1000 })), ...(await lease(q, { max: 1000 }))];
    for (const t of leased) await call("POST", qpath(q, `/tasks/${t.id}/nack`), { leaseId: t.leaseId });
    const seen = await pages(q, "/dead");
    // The old pages held all 40 (10 MiB) at once.
    expect(seen.map((p) => p.ids.length)).toEqual([FIT, TASKS - FIT]);
    expect(seen.flatMap((p) => p.ids)).toEqual(ids);
    for (const p of seen) expect(p.bytes).toBeLessThan(PAGE_BYTES + 64 * 1024);
  });

  it("task lists stop under 8 MiB with a cursor that continues, in every state", async () => {
    const q = unique("q");
    const ids = await bigTasks(q, { delayMs: 600_000 });
    const delayed = await pages(q, "/tasks?state=delayed");
    expect(delayed.map((p) => p.ids.length)).toEqual([FIT, TASKS - FIT]);
    expect(delayed.flatMap((p) => p.ids)).toEqual(ids);
    for (const id of ids) await call("POST", qpath(q, `/tasks/${id}/promote`));
    const ready = await pages(q, "/tasks?state=ready");
    expect(ready.map((p) => p.ids.length)).toEqual([FIT, TASKS - FIT]);
    expect(ready.flatMap((p) => p.ids)).toEqual(ids);
    for (const p of ready) expect(p.bytes).toBeLessThan(PAGE_BYTES + 64 * 1024);
  });
});
