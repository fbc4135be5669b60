/** The queue operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import type { QueueTransport } from "../../shared/client/queue-transport.ts";
import type { Env } from "../../shared/env.ts";
import { ok, type Result } from "../../shared/errors.ts";
import { type JsonText, parseJsonText } from "../../shared/json-text.ts";
import {
  type AckBatchOutput,
  AckBatchRequest,
  AckRequest,
  type DeadPage,
  DeadQuery,
  ExtendRequest,
  enqueueSchemaFor,
  type LeasedTask,
  LeaseRequest,
  type NackOutput,
  NackRequest,
  PurgeQuery,
  type QueueStats,
  RedriveRequest,
  type TaskInfo,
  TaskListQuery,
  type TaskPage,
} from "../../shared/schemas/queue.ts";
import { type QueueConfig, QueueConfigRequest } from "../../shared/schemas/queue-config.ts";
import {
  type LogsOutput,
  LogsRequest,
  type ProgressOutput,
  ProgressRequest,
} from "../../shared/schemas/queue-progress.ts";
import {
  type ScheduleInfo,
  ScheduleListQuery,
  ScheduleName,
  type SchedulePage,
  ScheduleRequest,
} from "../../shared/schemas/queue-schedule.ts";
import { forgetName, type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";

const TaskIdOnly = z.object({ id: z.string().min(1).max(64) });
const ScheduleNameOnly = z.object({ name: ScheduleName });

/** The input parsed by `schema`, after checking the queue name (and the task id, when given). */
function checked<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: { queue: unknown; id?: unknown; name?: unknown; target?: string },
): Result<z.output<S>> {
  const bad = validName<z.output<S>>(where.queue);
  if (bad) return bad;
  if ("id" in where) {
    const id = parseInput(TaskIdOnly, { id: where.id }, "param");
    if (!id.ok) return id;
  }
  if ("name" in where) {
    const name = parseInput(ScheduleNameOnly, { name: where.name }, "param");
    if (!name.ok) return name;
  }
  return parseInput(schema, input, where.target ?? "json");
}

/** An object's JSON-text answer as the value it encodes: RPC callers get objects. */
const decoded = <T>(result: Result<JsonText<T>>): Result<T> =>
  result.ok ? ok(parseJsonText(result.value)) : result;

/**
 * `(await env.SWITCHYARD.queues()).enqueue("emails", { payload: {...} })` from a Worker with a
 * service binding: the same results as the HTTP routes, failures as `{ ok: false, error }`.
 * It is a {@link QueueTransport}, so the typed client runs over it unchanged.
 */
export class QueueRpc extends RpcTarget implements QueueTransport {
  readonly #env: Env;
  /** Registers the name of a successful write in the catalog. */
  readonly #noted: NoteIfOk;

  constructor(env: Env, ctx?: Background) {
    super();
    this.#env = env;
    this.#noted = notesFor(env, ctx, "queues");
  }

  /** As `POST /v1/queues/{queue}/tasks`. */
  async enqueue(queue: string, input: unknown): Promise<Result<{ ids: string[] }>> {
    const parsed = checked(enqueueSchemaFor(input), input, { queue });
    return parsed.ok ? this.#noted(queue, this.#object(queue).enqueue(parsed.value)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/lease`. */
  async lease(queue: string, input: unknown = {}): Promise<Result<{ tasks: LeasedTask[] }>> {
    const parsed = checked(LeaseRequest, input, { queue });
    return parsed.ok ? decoded(await this.#object(queue).lease(parsed.value)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/ack`. */
  async ack(queue: string, id: string, input: unknown): Promise<Result<{ id: string; state: "completed" }>> {
    const parsed = checked(AckRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).ack(id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/ack`. */
  async ackBatch(queue: string, input: unknown): Promise<Result<AckBatchOutput>> {
    const parsed = checked(AckBatchRequest, input, { queue });
    return parsed.ok ? this.#object(queue).ackBatch(parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/nack`. */
  async nack(queue: string, id: string, input: unknown): Promise<Result<NackOutput>> {
    const parsed = checked(NackRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).nack(id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/extend`. */
  async extend(queue: string, id: string, input: unknown): Promise<Result<{ leaseExpiresAt: number }>> {
    const parsed = checked(ExtendRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).extend(id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/progress`. */
  async progress(queue: string, id: string, input: unknown): Promise<Result<ProgressOutput>> {
    const parsed = checked(ProgressRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).reportProgress(id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/logs`. */
  async logs(queue: string, id: string, input: unknown): Promise<Result<LogsOutput>> {
    const parsed = checked(LogsRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).appendLogs(id, parsed.value) : parsed;
  }

  /** As `GET /v1/queues/{queue}/tasks/{id}`. */
  async task(queue: string, id: string): Promise<Result<TaskInfo>> {
    const parsed = checked(z.unknown(), undefined, { queue, id });
    return parsed.ok ? decoded(await this.#object(queue).task(id)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/promote`. */
  async promote(queue: string, id: string): Promise<Result<{ id: string; state: "ready" }>> {
    const parsed = checked(z.unknown(), undefined, { queue, id });
    return parsed.ok ? this.#object(queue).promote(id) : parsed;
  }

  /** As `GET /v1/queues/{queue}/tasks`. */
  async tasks(queue: string, input: unknown): Promise<Result<TaskPage>> {
    const parsed = checked(TaskListQuery, input, { queue, target: "query" });
    return parsed.ok ? decoded(await this.#object(queue).tasks(parsed.value)) : parsed;
  }

  /** As `GET /v1/queues/{queue}/stats`. */
  async stats(queue: string): Promise<Result<QueueStats>> {
    return validName<QueueStats>(queue) ?? ok(await this.#object(queue).stats());
  }

  /** As `GET /v1/queues/{queue}/dead`. */
  async dead(queue: string, input: unknown = {}): Promise<Result<DeadPage>> {
    const parsed = checked(DeadQuery, input, { queue, target: "query" });
    return parsed.ok ? decoded(await this.#object(queue).dead(parsed.value)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/dead/redrive`. */
  async redrive(queue: string, input: unknown = {}): Promise<Result<{ redriven: number }>> {
    const parsed = checked(RedriveRequest, input, { queue });
    return parsed.ok ? this.#object(queue).redrive(parsed.value) : parsed;
  }

  /** As `DELETE /v1/queues/{queue}/tasks`. */
  async purge(queue: string, input: unknown): Promise<Result<{ purged: number }>> {
    const parsed = checked(PurgeQuery, input, { queue, target: "query" });
    return parsed.ok ? this.#object(queue).purge(parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/pause`. */
  async pause(queue: string): Promise<Result<{ paused: boolean }>> {
    return validName<{ paused: boolean }>(queue) ?? ok(await this.#object(queue).setPaused(true));
  }

  /** As `POST /v1/queues/{queue}/resume`. */
  async resume(queue: string): Promise<Result<{ paused: boolean }>> {
    return validName<{ paused: boolean }>(queue) ?? ok(await this.#object(queue).setPaused(false));
  }

  /** As `DELETE /v1/queues/{queue}`. */
  async deleteQueue(queue: string): Promise<Result<{ deleted: true }>> {
    const bad = validName<{ deleted: true }>(queue);
    if (bad) return bad;
    const deleted = await this.#object(queue).deleteQueue();
    await forgetName(this.#env, "queues", queue);
    return ok(deleted);
  }

  /** As `PUT /v1/queues/{queue}/config`. */
  async setConfig(queue: string, input: unknown): Promise<Result<QueueConfig>> {
    const parsed = checked(QueueConfigRequest, input, { queue });
    return parsed.ok ? ok(await this.#object(queue).setLeaseLimits(parsed.value)) : parsed;
  }

  /** As `GET /v1/queues/{queue}/config`. */
  async config(queue: string): Promise<Result<QueueConfig>> {
    return validName<QueueConfig>(queue) ?? ok(await this.#object(queue).leaseLimits());
  }

  /** As `PUT /v1/queues/{queue}/schedules/{name}`. */
  async putSchedule(queue: string, name: string, input: unknown): Promise<Result<ScheduleInfo>> {
    const parsed = checked(ScheduleRequest, input, { queue, name });
    if (!parsed.ok) return parsed;
    const put = await this.#noted(queue, this.#object(queue).putSchedule(name, parsed.value));
    return put.ok ? ok(parseJsonText(put.value.schedule)) : put;
  }

  /** As `GET /v1/queues/{queue}/schedules`. */
  async schedules(queue: string, input: unknown = {}): Promise<Result<SchedulePage>> {
    const parsed = checked(ScheduleListQuery, input, { queue, target: "query" });
    return parsed.ok ? decoded(await this.#object(queue).schedulesPage(parsed.value)) : parsed;
  }

  /** As `GET /v1/queues/{queue}/schedules/{name}`. */
  async schedule(queue: string, name: string): Promise<Result<ScheduleInfo>> {
    const parsed = checked(z.unknown(), undefined, { queue, name });
    return parsed.ok ? decoded(await this.#object(queue).schedule(name)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/schedules/{name}/pause`. */
  async pauseSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>> {
    const parsed = checked(z.unknown(), undefined, { queue, name });
    return parsed.ok ? decoded(await this.#object(queue).setSchedulePaused(name, true)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/schedules/{name}/resume`. */
  async resumeSchedule(queue: string, name: string): Promise<Result<ScheduleInfo>> {
    const parsed = checked(z.unknown(), undefined, { queue, name });
    return parsed.ok ? decoded(await this.#object(queue).setSchedulePaused(name, false)) : parsed;
  }

  /** As `DELETE /v1/queues/{queue}/schedules/{name}`. */
  async deleteSchedule(queue: string, name: string): Promise<Result<{ deleted: true }>> {
    const parsed = checked(z.unknown(), undefined, { queue, name });
    return parsed.ok ? this.#object(queue).deleteSchedule(name) : parsed;
  }

  #object(queue: string) {
    return this.#env.QUEUES.getByName(queue);
  }
}
