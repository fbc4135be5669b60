/**
 * A typed client of the event bus, over HTTP or a service binding: publish, manage webhook
 * subscriptions, pull events, subscribe over a WebSocket (reconnecting and resuming from the last
 * seq seen), and verify webhooks on the receiving end.
 *
 * @example
 * const bus = BusClient.http({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" });
 * await bus.publish("orders", { type: "order.created", data: { id: 42 } });
 * const sub = bus.subscribe("orders", (e) => console.log(e.seq, e.type), { filter: ["order.*"] });
 */
import { ApiError, type Result } from "../errors.ts";
import { backoffDelay } from "../resilience/backoff.ts";
import type {
  BusEventValue,
  DeadLetterValue,
  EventsPageValue,
  PublishResult,
  SubscriptionInfo,
  TopicConfigValue,
  TopicStatsValue,
} from "../schemas/bus.ts";
import { DEFAULT_TOLERANCE_SECONDS, verifySignature } from "../webhook-signature.ts";
import { type BusCalls, BUS_CALLS as DECLARED_BUS_CALLS } from "./calls.ts";
import { type ClientSocket, HttpTransport, openWebSocket, upgradeThrough } from "./http.ts";
import { type CloseInfo, endsForGood } from "./socket-end.ts";
import { bindingTransport, type CallTable, callsOver, httpTransport, queryString } from "./transport.ts";

/** An event to publish; `priority` defaults to normal, `critical` to false. */
export interface EventToPublish {
  type: string;
  data?: unknown;
  priority?: "critical" | "high" | "normal" | "low";
  critical?: boolean;
}

/** A webhook subscription to create. */
export interface WebhookOptions {
  url: string;
  filter?: string[];
  maxAttempts?: number;
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  timeoutMs?: number;
}

/** A subscription that writes into Redis: `{stream, maxLen?}` (XADD, exactly once) or `{channel}` (PUBLISH). */
export interface RedisSinkOptions {
  redis: { stream: string; maxLen?: number } | { channel: string };
  filter?: string[];
  maxAttempts?: number;
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  timeoutMs?: number;
}

/** Query of the pull API. */
export interface EventsOptions {
  fromSeq?: number;
  limit?: number;
  filter?: string[];
}

/** The operations both transports carry (./calls.ts): the service binding's `topics()` target. */
export type BusOperations = BusCalls;

/** The part of a WebSocket the subscriber uses (browsers, Node 22, Workers). */
export type SocketLike = ClientSocket;

/** Opens a subscriber socket for a path such as `/v1/topics/orders/subscribe?fromSeq=3`. */
export type SocketFactory = (path: string) => Promise<SocketLike>;

/** What `subscribe` takes besides the handler. */
export interface SubscribeOptions {
  filter?: string[];
  /** Replay retained events from this seq first; later reconnects resume after the last seq seen. */
  fromSeq?: number;
  /** Called on every connection loss, before reconnecting. */
  onDisconnect?: (attempt: number) => void;
  /** Called when `handler` throws; a critical event is then left unacked and handled again when re-sent. */
  onError?: (error: unknown, event: BusEventValue) => void;
  /**
   * Called once when the subscription ends for good instead of reconnecting: its token expired, was
   * revoked or does not allow it (`unauthorized`, `forbidden`). Subscribe again with a fresh token.
   */
  onEnd?: (error: ApiError) => void;
}

/** A live WebSocket subscription. */
export interface BusSubscription {
  /** The highest seq received so far (0 before the first event). */
  readonly lastSeq: number;
  /** Stops for good: no more events, no reconnects. */
  close(): void;
}

const RECONNECT = { kind: "exponential", initialDelayMs: 100, maxDelayMs: 10_000, jitter: "full" } as const;

const path = (topic: string, rest = "") => `/v1/topics/${encodeURIComponent(topic)}${rest}`;

/** The bus calls (./calls.ts); over HTTP, the subscription list comes wrapped in `{subscriptions}`. */
export const BUS_CALLS = {
  ...DECLARED_BUS_CALLS,
  listSubscriptions: {
    ...DECLARED_BUS_CALLS.listSubscriptions,
    fromHttp: (body: { subscriptions: SubscriptionInfo[] }) => body.subscriptions,
  },
} as const satisfies CallTable;

/** A service binding to the `SwitchyardRpc` entrypoint (`entrypoint = "SwitchyardRpc"`). */
export interface SwitchyardBinding {
  topics(): BusOperations | Promise<BusOperations>;
}

/** A service binding to the Worker's default (HTTP) entrypoint, for WebSocket upgrades. */
export interface HttpBinding {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export class BusClient {
  private readonly operations: () => Promise<BusOperations>;
  private readonly openSocket: SocketFactory | undefined;

  constructor(operations: () => Promise<BusOperations>, openSocket?: SocketFactory) {
    this.operations = operations;
    this.openSocket = openSocket;
  }

  /** Talks HTTP to `baseUrl`; subscribes with the global `WebSocket` (token in `?token=`). */
  static http(options: { baseUrl: string; token: string; fetch?: typeof fetch }): BusClient {
    const http = HttpTransport.over(options);
    const ops = callsOver<BusOperations>(httpTransport(http), "topics", BUS_CALLS);
    const base = options.baseUrl.replace(/\/$/, "");
    const open: SocketFactory = (p) => openWebSocket(new URL(`${base}${p}`), options.token);
    return new BusClient(async () => ops, open);
  }

  /**
   * Calls the Worker through a service binding (RPC, no HTTP). `subscribe` also needs `http`, a
   * binding to the Worker's default entrypoint, and a token: WebSockets go through the HTTP routes.
   */
  static binding(
    binding: SwitchyardBinding,
    options: { http?: HttpBinding; token?: string } = {},
  ): BusClient {
    const { http, token } = options;
    const open: SocketFactory | undefined =
      http && token
        ? (p) =>
            upgradeThrough(
              (url, headers) => http.fetch(url, { headers }),
              new URL(`https://switchyard${p}`),
              token,
            )
        : undefined;
    const ops = callsOver<BusOperations>(bindingTransport(binding), "topics", BUS_CALLS);
    return new BusClient(async () => ops, open);
  }

  private async run<T>(op: (o: BusOperations) => Promise<Result<T>>): Promise<T> {
    const result = await op(await this.operations());
    if (result.ok) return result.value;
    const err = ApiError.from(result.error);
    const retryAfter = result.error.details?.retryAfterSeconds;
    if (retryAfter !== undefined) err.headers["Retry-After"] = String(retryAfter);
    throw err;
  }

  /** Publishes one event or a batch; throws {@link ApiError} `backpressure` (with `Retry-After`) when full. */
  publish(topic: string, events: EventToPublish | EventToPublish[]): Promise<PublishResult> {
    const input = Array.isArray(events) ? { events } : events;
    return this.run((o) => o.publish(topic, input));
  }

  /** Adds a webhook subscription; keep the returned secret to verify deliveries. */
  createSubscription(topic: string, options: WebhookOptions): Promise<{ id: string; secret: string }> {
    // A webhook subscription always gets its secret.
    return this.run((o) => o.createSubscription(topic, options)) as Promise<{ id: string; secret: string }>;
  }

  /** Adds a subscription that appends to a Redis stream or publishes to a Redis channel. */
  createRedisSubscription(topic: string, options: RedisSinkOptions): Promise<{ id: string }> {
    return this.run((o) => o.createSubscription(topic, options)).then(({ id }) => ({ id }));
  }

  listSubscriptions(topic: string): Promise<SubscriptionInfo[]> {
    return this.run((o) => o.listSubscriptions(topic));
  }

  deleteSubscription(topic: string, id: string): Promise<{ deleted: true }> {
    return this.run((o) => o.deleteSubscription(topic, id));
  }

  resumeSubscription(topic: string, id: string): Promise<SubscriptionInfo> {
    return this.run((o) => o.resumeSubscription(topic, id));
  }

  /** Pauses a subscription by hand (its pending non-critical deliveries go to its dead letters). */
  pauseSubscription(topic: string, id: string): Promise<SubscriptionInfo> {
    return this.run((o) => o.pauseSubscription(topic, id));
  }

  deadLetters(topic: string, id: string, limit?: number): Promise<DeadLetterValue[]> {
    return this.run((o) => o.deadLetters(topic, id, limit === undefined ? {} : { limit })).then(
      (r) => r.deadLetters,
    );
  }

  /**
   * Delivers a subscription's dead letters again (those with `seqs`, or all), attempts reset;
   * returns how many are pending again (seqs that are not dead letters are skipped).
   */
  redriveDeadLetters(topic: string, id: string, seqs?: number[]): Promise<number> {
    const input = seqs === undefined ? {} : { seqs };
    return this.run((o) => o.redriveDeadLetters(topic, id, input)).then((r) => r.redriven);
  }

  /** Pulls retained events from `fromSeq` on; continue from the returned `nextSeq`. */
  events(topic: string, options: EventsOptions = {}): Promise<EventsPageValue> {
    const q = { fromSeq: options.fromSeq, limit: options.limit, filter: options.filter?.join(",") };
    return this.run((o) => o.events(topic, q));
  }

  stats(topic: string): Promise<TopicStatsValue> {
    return this.run((o) => o.stats(topic));
  }

  configure(topic: string, patch: Partial<TopicConfigValue>): Promise<TopicConfigValue> {
    return this.run((o) => o.configure(topic, patch));
  }

  /**
   * Receives events over a WebSocket, one at a time in arrival order. Critical events are acked
   * once `handler` resolves; if it throws they stay unacked and are handled again when the topic
   * re-sends them. On a lost connection it reconnects with backoff and resumes after the last seq
   * received; events seen before are acked again but not handed to `handler` twice.
   */
  subscribe(
    topic: string,
    handler: (event: BusEventValue) => void | Promise<void>,
    options: SubscribeOptions = {},
  ): BusSubscription {
    const open = this.openSocket;
    if (!open)
      throw new ApiError(
        "invalid_request",
        "this client cannot open WebSockets (binding without fetch/token)",
      );
    let lastSeq = options.fromSeq === undefined ? 0 : options.fromSeq - 1;
    let replayFrom = options.fromSeq;
    let closed = false;
    let failures = 0;
    let socket: SocketLike | undefined;
    let chain = Promise.resolve();

    const failed = new Set<number>();
    const onEvent = async (ws: SocketLike, event: BusEventValue) => {
      const fresh = event.seq > lastSeq || failed.has(event.seq);
      if (event.seq > lastSeq) {
        lastSeq = event.seq;
        replayFrom = lastSeq + 1;
      }
      if (fresh) {
        try {
          await handler(event);
          failed.delete(event.seq);
        } catch (err) {
          options.onError?.(err, event);
          if (event.critical) failed.add(event.seq);
          return;
        }
      }
      if (event.critical) ws.send(JSON.stringify({ type: "ack", seq: event.seq }));
    };

    const connect = async () => {
      if (closed) return;
      const q = queryString({ filter: options.filter?.join(","), fromSeq: replayFrom });
      let ws: SocketLike;
      try {
        ws = await open(path(topic, `/subscribe${q}`));
      } catch (err) {
        return retry(err);
      }
      socket = ws;
      ws.addEventListener("message", (m) => {
        failures = 0;
        const parsed = JSON.parse(String(m.data)) as { type?: string; event?: BusEventValue };
        if (parsed.type !== "event" || !parsed.event) return;
        const event = parsed.event;
        // One at a time, in arrival order.
        chain = chain.then(() => onEvent(ws, event));
      });
      // An error is followed by a close (WHATWG WebSocket); whichever comes first reconnects, once.
      let ended = false;
      const end = (close: CloseInfo) => {
        if (ended) return;
        ended = true;
        retry(close);
      };
      ws.addEventListener("close", end);
      ws.addEventListener("error", end);
    };

    let reconnecting = false;
    /** Reconnects after `cause` (a close, or a failed connect), unless it ends the subscription for good. */
    const retry = (cause: unknown) => {
      if (closed || reconnecting) return;
      const end = endsForGood(cause);
      if (end) {
        closed = true;
        options.onEnd?.(end);
        return;
      }
      reconnecting = true;
      socket = undefined;
      failures++;
      options.onDisconnect?.(failures);
      setTimeout(
        () => {
          reconnecting = false;
          void connect();
        },
        backoffDelay(RECONNECT, failures, Math.random),
      );
    };

    void connect();
    return {
      get lastSeq() {
        return lastSeq;
      },
      close() {
        closed = true;
        socket?.close(1000, "closed by client");
      },
    };
  }
}

/**
 * Verifies a webhook request from the bus (Standard Webhooks) and returns its event. Throws
 * {@link ApiError} `unauthorized` when the signature is wrong or the timestamp is more than
 * `toleranceSeconds` (default 300) away from now. Reads the request's body.
 *
 * @example
 * export default { async fetch(req, env) { const event = await verifyWebhook(req, env.WEBHOOK_SECRET); ... } }
 */
export async function verifyWebhook(
  request: Request,
  secret: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): Promise<BusEventValue> {
  const body = await request.text();
  const outcome = await verifySignature(
    secret,
    {
      id: request.headers.get("webhook-id") ?? "",
      timestamp: request.headers.get("webhook-timestamp") ?? "",
      signature: request.headers.get("webhook-signature") ?? "",
      body,
    },
    options.nowSeconds ?? Math.floor(Date.now() / 1000),
    options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
  );
  if (!outcome.ok) throw new ApiError("unauthorized", `webhook rejected: ${outcome.reason}`);
  return JSON.parse(body) as BusEventValue;
}
