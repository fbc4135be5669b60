/** The queue operations over RPC, validated with the HTTP schemas. */
import { RpcTarget } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import type { QueueTransport } from "../../shared/client/queue-transport.ts";
import type { Env } from "../../shared/env.ts";
import { ok, type Result } from "../../shared/errors.ts";
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
} from "../../shared/schemas/queue.ts";
import { type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";

const TaskIdOnly = z.object({ id: z.string().min(1).max(64) });

/** The input parsed by `schema`, after checking the queue name (and the task id, when given). */
function checked<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: { queue: unknown; id?: unknown; target?: string },
): Result<z.output<S>> {
  const bad = validName<z.output<S>>(where.queue);
  if (bad) return bad;
  if ("id" in where) {
    const id = parseInput(TaskIdOnly, { id: where.id }, "param");
    if (!id.ok) return id;
  }
  return parseInput(schema, input, where.target ?? "json");
}

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
    return parsed.ok ? this.#noted(queue, this.#object(queue).enqueue(queue, parsed.value)) : parsed;
  }

  /** As `POST /v1/queues/{queue}/lease`. */
  async lease(queue: string, input: unknown = {}): Promise<Result<{ tasks: LeasedTask[] }>> {
    const parsed = checked(LeaseRequest, input, { queue });
    return parsed.ok ? this.#object(queue).lease(queue, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/ack`. */
  async ack(queue: string, id: string, input: unknown): Promise<Result<{ id: string; state: "completed" }>> {
    const parsed = checked(AckRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).ack(queue, id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/ack`. */
  async ackBatch(queue: string, input: unknown): Promise<Result<AckBatchOutput>> {
    const parsed = checked(AckBatchRequest, input, { queue });
    return parsed.ok ? this.#object(queue).ackBatch(queue, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/nack`. */
  async nack(queue: string, id: string, input: unknown): Promise<Result<NackOutput>> {
    const parsed = checked(NackRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).nack(queue, id, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/tasks/{id}/extend`. */
  async extend(queue: string, id: string, input: unknown): Promise<Result<{ leaseExpiresAt: number }>> {
    const parsed = checked(ExtendRequest, input, { queue, id });
    return parsed.ok ? this.#object(queue).extend(queue, id, parsed.value) : parsed;
  }

  /** As `GET /v1/queues/{queue}/tasks/{id}`. */
  async task(queue: string, id: string): Promise<Result<TaskInfo>> {
    const parsed = checked(z.unknown(), undefined, { queue, id });
    return parsed.ok ? this.#object(queue).task(queue, id) : parsed;
  }

  /** As `GET /v1/queues/{queue}/stats`. */
  async stats(queue: string): Promise<Result<QueueStats>> {
    return validName<QueueStats>(queue) ?? ok(await this.#object(queue).stats(queue));
  }

  /** As `GET /v1/queues/{queue}/dead`. */
  async dead(queue: string, input: unknown = {}): Promise<Result<DeadPage>> {
    const parsed = checked(DeadQuery, input, { queue, target: "query" });
    return parsed.ok ? this.#object(queue).dead(queue, parsed.value) : parsed;
  }

  /** As `POST /v1/queues/{queue}/dead/redrive`. */
  async redrive(queue: string, input: unknown = {}): Promise<Result<{ redriven: number }>> {
    const parsed = checked(RedriveRequest, input, { queue });
    return parsed.ok ? this.#object(queue).redrive(queue, parsed.value) : parsed;
  }

  /** As `DELETE /v1/queues/{queue}/tasks`. */
  async purge(queue: string, input: unknown): Promise<Result<{ purged: number }>> {
    const parsed = checked(PurgeQuery, input, { queue, target: "query" });
    return parsed.ok ? this.#object(queue).purge(queue, parsed.value) : parsed;
  }

  #object(queue: string) {
    return this.#env.QUEUES.getByName(queue);
  }
}
