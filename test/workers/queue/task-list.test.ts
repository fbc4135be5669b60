import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cursorAfter, infoText, leasedText, parseCursor } from "../../../durable-objects/queue/task-list.ts";
import type { TaskRow } from "../../../durable-objects/queue/task-store.ts";
import { withRawMembers } from "../../../shared/json-text.ts";

const row = (over: Partial<TaskRow> = {}): TaskRow => ({
  seq: 7,
  state: "ready",
  priority: 2,
  payload: '{"to":"a@b.c"}',
  attempt: 1,
  max_attempts: 5,
  enqueued_at: 1_700_000_000_000,
  available_at: 1_700_000_000_500,
  lease_id: null,
  lease_expires_at: null,
  dedup_key: null,
  last_error: null,
  result: null,
  finished_at: null,
  progress: null,
  progress_at: null,
  log_count: 0,
  log_bytes: 0,
  child_results: null,
  ...over,
});

describe("JSON text around stored payloads", () => {
  it("equals serialising the parsed value, for any JSON", () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.option(fc.jsonValue(), { nil: null }),
        fc.option(fc.jsonValue(), { nil: null }),
        fc.array(fc.string(), { maxLength: 5 }),
        fc.nat(3),
        (payload, result, progress, lines, dropped) => {
          const logs = lines.map((line, i) => ({ attempt: i + 1, at: 1_700_000_000_000 + i, line }));
          const stored = row({
            payload: JSON.stringify(payload),
            result: result === null ? null : JSON.stringify(result),
            dedup_key: "k",
            last_error: 'boom "x"',
            progress: progress === null ? null : JSON.stringify(progress),
            progress_at: progress === null ? null : 1_700_000_000_900,
            log_count: lines.length + dropped,
          });
          const parsed = JSON.parse(
            infoText(
              stored,
              logs.map((entry) => JSON.stringify(entry)),
            ),
          );
          expect(parsed).toEqual(
            JSON.parse(
              JSON.stringify({
                id: "7",
                state: "ready",
                priority: "high",
                attempt: 1,
                maxAttempts: 5,
                enqueuedAt: stored.enqueued_at,
                dedupKey: "k",
                lastError: 'boom "x"',
                payload,
                ...(result === null ? {} : { result }),
                ...(progress === null ? {} : { progressAt: 1_700_000_000_900, progress }),
                ...(dropped === 0 ? {} : { logsDropped: dropped }),
                ...(logs.length === 0 ? {} : { logs }),
              }),
            ),
          );
        },
      ),
    );
  });

  it("builds a leased task with its lease, and leaves out null members", () => {
    const leased = leasedText({ ...row(), lease_id: "L.7" }, 99);
    expect(JSON.parse(leased.text)).toEqual({
      id: "7",
      priority: "high",
      attempt: 1,
      maxAttempts: 5,
      leaseId: "L.7",
      leaseExpiresAt: 99,
      enqueuedAt: 1_700_000_000_000,
      payload: { to: "a@b.c" },
    });
    expect(withRawMembers({ a: 1 }, { b: null, c: "[1]" })).toBe('{"a":1,"c":[1]}');
  });
});

describe("task list cursors", () => {
  it("resume after the row they were made from, per state", () => {
    const r = row();
    expect(parseCursor("ready", cursorAfter("ready", r))).toEqual({
      rank: 2,
      availableAt: r.available_at,
      seq: 7,
    });
    expect(parseCursor("dead", cursorAfter("dead", r))).toMatchObject({ seq: 7 });
    expect(parseCursor("ready", "")).toEqual(parseCursor("dead", undefined));
  });

  it.each([
    ["ready", "7"],
    ["ready", "4.1.1"],
    ["dead", "2.1.7"],
    ["delayed", "07"],
    ["leased", "-1"],
  ] as const)("refuses %s cursor %s", (state, cursor) => {
    expect(parseCursor(state, cursor)).toBeUndefined();
  });
});
