import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { logEntries, longLogLine, progressText } from "../../../durable-objects/logic/task-progress.ts";
import { MAX_LOG_LINE_BYTES, MAX_PROGRESS_BYTES } from "../../../shared/schemas/queue-progress.ts";

const bytes = (text: string) => new TextEncoder().encode(text).byteLength;

describe("progress and log line rules", () => {
  it("takes progress whose JSON text fits 4 KiB, and refuses the rest naming the field", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.string({ unit: "binary", maxLength: 3000 })), (value) => {
        const text = JSON.stringify(value);
        const out = progressText(value);
        if (bytes(text) <= MAX_PROGRESS_BYTES) expect(out).toEqual({ ok: true, value: text });
        else
          expect(out).toMatchObject({
            ok: false,
            error: { code: "payload_too_large", details: { field: "progress", limit: MAX_PROGRESS_BYTES } },
          });
      }),
    );
  });

  it("names the first line over 1 KiB, else stores each line as its entry's JSON text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 600 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 100 }),
        fc.nat(),
        (lines, attempt, at) => {
          const first = lines.findIndex((line) => bytes(line) > MAX_LOG_LINE_BYTES);
          const tooLong = longLogLine(lines);
          if (first >= 0) {
            expect(tooLong).toMatchObject({ ok: false, error: { details: { field: `lines.${first}` } } });
            return;
          }
          expect(tooLong).toBeUndefined();
          expect(logEntries(lines, attempt, at).map((e) => JSON.parse(e))).toEqual(
            lines.map((line) => ({ attempt, at, line })),
          );
        },
      ),
    );
  });
});
