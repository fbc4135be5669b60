/** The event bus operations over RPC, validated with the HTTP schemas. */

import { RpcTarget } from "cloudflare:workers";
import type { Env } from "../../shared/env.ts";
import { ok, type Result } from "../../shared/errors.ts";
import {
  type DeadLetterPage,
  DeadLetterRedriveRequest,
  DeadLettersQuery,
  type EventsPageValue,
  EventsQuery,
  PublishRequest,
  type PublishResult,
  type SubscriptionInfo,
  SubscriptionRequest,
  TopicConfigPatch,
  type TopicConfigValue,
  type TopicStatsValue,
} from "../../shared/schemas/bus.ts";
import { type NoteIfOk, notesFor } from "../catalog/note.ts";
import type { Background } from "../http/access.ts";
import { parseInput } from "../http/validation.ts";
import { validName } from "../rpc-validation.ts";

/**
 * `(await env.SWITCHYARD.topics()).publish("orders", { type: "order.created", data })` from a
 * Worker with a service binding: the same results as the HTTP routes, failures as
 * `{ ok: false, error }` (backpressure with `details.retryAfterSeconds`).
 */
export class BusRpc extends RpcTarget {
  readonly #env: Env;
  /** Registers the name of a successful write in the catalog. */
  readonly #noted: NoteIfOk;

  constructor(env: Env, ctx?: Background) {
    super();
    this.#env = env;
    this.#noted = notesFor(env, ctx, "topics");
  }

  /** As `POST /v1/topics/{topic}/events`. */
  async publish(topic: string, input: unknown): Promise<Result<PublishResult>> {
    const parsed = parseInput(PublishRequest, input, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(topic, validName(topic) ?? this.#object(topic).publish(parsed.value));
  }

  /** As `POST /v1/topics/{topic}/subscriptions`. */
  async createSubscription(topic: string, input: unknown): Promise<Result<{ id: string; secret?: string }>> {
    const parsed = parseInput(SubscriptionRequest, input, "json");
    if (!parsed.ok) return parsed;
    return this.#noted(topic, validName(topic) ?? this.#object(topic).createSubscription(parsed.value));
  }

  /** As `GET /v1/topics/{topic}/subscriptions`. */
  async listSubscriptions(topic: string): Promise<Result<SubscriptionInfo[]>> {
    return validName(topic) ?? ok(await this.#object(topic).listSubscriptions());
  }

  /** As `DELETE /v1/topics/{topic}/subscriptions/{id}`. */
  async deleteSubscription(topic: string, id: string): Promise<Result<{ deleted: true }>> {
    return validName(topic) ?? this.#object(topic).deleteSubscription(String(id));
  }

  /** As `POST /v1/topics/{topic}/subscriptions/{id}/resume`. */
  async resumeSubscription(topic: string, id: string): Promise<Result<SubscriptionInfo>> {
    return validName(topic) ?? this.#object(topic).resumeSubscription(String(id));
  }

  /** As `POST /v1/topics/{topic}/subscriptions/{id}/pause`. */
  async pauseSubscription(topic: string, id: string): Promise<Result<SubscriptionInfo>> {
    return validName(topic) ?? this.#object(topic).pauseSubscription(String(id));
  }

  /** As `GET /v1/topics/{topic}/subscriptions/{id}/dead-letters` (`{limit, cursor}`). */
  async deadLetters(topic: string, id: string, options: unknown = {}): Promise<Result<DeadLetterPage>> {
    const parsed = parseInput(DeadLettersQuery, options, "query");
    if (!parsed.ok) return parsed;
    return validName(topic) ?? this.#object(topic).deadLetters(String(id), parsed.value);
  }

  /** As `POST /v1/topics/{topic}/subscriptions/{id}/dead-letters/redrive`. */
  async redriveDeadLetters(
    topic: string,
    id: string,
    input: unknown = {},
  ): Promise<Result<{ redriven: number }>> {
    const parsed = parseInput(DeadLetterRedriveRequest, input, "json");
    if (!parsed.ok) return parsed;
    return validName(topic) ?? this.#object(topic).redriveDeadLetters(String(id), parsed.value.seqs);
  }

  /** As `GET /v1/topics/{topic}/events` (numbers may be given as numbers). */
  async events(topic: string, query: unknown = {}): Promise<Result<EventsPageValue>> {
    const parsed = parseInput(EventsQuery, query, "query");
    if (!parsed.ok) return parsed;
    return validName(topic) ?? ok(await this.#object(topic).events(parsed.value));
  }

  /** As `GET /v1/topics/{topic}/stats`. */
  async stats(topic: string): Promise<Result<TopicStatsValue>> {
    return validName(topic) ?? ok(await this.#object(topic).stats());
  }

  /** As `PUT /v1/topics/{topic}/config`. */
  async configure(topic: string, patch: unknown): Promise<Result<TopicConfigValue>> {
    const parsed = parseInput(TopicConfigPatch, patch, "json");
    if (!parsed.ok) return parsed;
    return validName(topic) ?? ok(await this.#object(topic).setConfig(parsed.value));
  }

  #object(topic: string) {
    return this.#env.TOPICS.getByName(topic);
  }
}
