/**
 * The rules of a task's progress and log lines: the size limits (refused as `payload_too_large`
 * naming the field, as payloads over their limit are) and the stored form of a log line.
 */
import { fail, ok, type Result } from "../../shared/errors.ts";
import { utf8Bytes } from "../../shared/schemas/common.ts";
import { MAX_LOG_LINE_BYTES, MAX_PROGRESS_BYTES } from "../../shared/schemas/queue-progress.ts";

/** The JSON text of a progress value, or `payload_too_large` when it is over 4 KiB. */
export function progressText(progress: unknown): Result<string> {
  const text = JSON.stringify(progress) ?? "null";
  if (utf8Bytes(text) > MAX_PROGRESS_BYTES) {
    return fail("payload_too_large", `progress is over ${MAX_PROGRESS_BYTES} bytes of JSON text`, {
      field: "progress",
      limit: MAX_PROGRESS_BYTES,
    });
  }
  return ok(text);
}

/** The stored form of each line: the JSON text of a `TaskLogEntry` written by `attempt` at `at`. */
export function logEntries(lines: readonly string[], attempt: number, at: number): string[] {
  return lines.map((line) => JSON.stringify({ attempt, at, line }));
}

/**
 * `payload_too_large` naming the first line over 1 KiB of UTF-8 (`lines.3`): it refuses the whole
 * batch. Items that are not text are left to validation (the Worker asks before it validates).
 */
export function longLogLine(lines: readonly unknown[]): Result<never> | undefined {
  const at = lines.findIndex((line) => typeof line === "string" && utf8Bytes(line) > MAX_LOG_LINE_BYTES);
  if (at < 0) return undefined;
  return fail("payload_too_large", `lines.${at} is over ${MAX_LOG_LINE_BYTES} bytes`, {
    field: `lines.${at}`,
    limit: MAX_LOG_LINE_BYTES,
  });
}
