/**
 * The `413`s the queue object answers for a body, found before validation (a declaration's
 * `oversized`, see workers/declare/table.ts), with the object's own checks and field names.
 */
import { longLogLine, progressText } from "../../durable-objects/logic/task-progress.ts";
import type { ErrorInfo } from "../../shared/errors.ts";
import { type FieldValue, firstOversized, items, member, oneOrEach } from "../declare/body-values.ts";

/** One task's payload or a batch's: `payload`, `tasks.3.payload`. */
export const oversizedTasks = (body: unknown) => firstOversized(oneOrEach(body, "tasks", "payload"));

/** A flow's payloads, or a batch's (`flows.2.`): the parent's, then each child's depth first. */
export function oversizedFlows(body: unknown): ErrorInfo | undefined {
  const batch = member(body, "flows");
  const flows =
    batch === undefined ? [[body, ""] as const] : items(batch).map((f, i) => [f, `flows.${i}.`] as const);
  return firstOversized(flows.flatMap(([flow, prefix]) => [...flowPayloads(flow, prefix)]));
}

function* flowPayloads(flow: unknown, prefix: string): Generator<FieldValue> {
  yield [`${prefix}parent.payload`, member(member(flow, "parent"), "payload")];
  yield* childPayloads(member(flow, "children"), prefix);
}

function* childPayloads(children: unknown, prefix: string): Generator<FieldValue> {
  for (const [i, child] of items(children).entries()) {
    const at = `${prefix}children.${i}.`;
    yield [`${at}payload`, member(child, "payload")];
    yield* childPayloads(member(child, "children"), at);
  }
}

/** A schedule's task payload. */
export const oversizedSchedule = (body: unknown) =>
  firstOversized([["task.payload", member(member(body, "task"), "payload")]]);

/** An ack's result. */
export const oversizedResult = (body: unknown) => firstOversized([["result", member(body, "result")]]);

/** A progress value over 4 KiB of JSON text. */
export const oversizedProgress = (body: unknown) =>
  firstOversized([["progress", member(body, "progress")]], (progress) => progressText(progress));

/** The first log line over 1 KiB of UTF-8 (`lines.3`). */
export const oversizedLines = (body: unknown) =>
  firstOversized([["lines", member(body, "lines")]], (lines) => longLogLine(items(lines)));
