/** Shared steps of the Redis bridge tests: the gateway the set-up started, read with @upstash/redis. */

import { Redis } from "@upstash/redis/cloudflare";
import { inject } from "vitest";
import type { RedisTestGateway } from "../redis-setup/global-setup.ts";

/** The gateway over the real Redis (see test/redis-setup/global-setup.ts). */
// The type import also brings the `redisGateway` key of vitest's ProvidedContext into scope.
export const gateway: RedisTestGateway = inject("redisGateway");

/** A client of the same Redis, answers as Redis gave them (no JSON parsing). */
export function redis(): Redis {
  return new Redis({
    url: gateway.url,
    token: gateway.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    retry: false,
  });
}

/** The gateway's fault switches (see scripts/upstash-gateway/server.ts). */
export interface FaultPatch {
  dropAnswers?: number;
  dropCommand?: string | null;
  down?: boolean;
}

/** Sets fault switches; answers the gateway's counters. */
export async function faults(
  patch: FaultPatch = {},
): Promise<{ counters: { dropped: number; refused: number } }> {
  const res = await fetch(`${gateway.url}/__gateway/faults`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.token}` },
    body: JSON.stringify(patch),
  });
  return res.json();
}

/** Clears every fault switch. */
export const healthy = () => faults({ dropAnswers: 0, dropCommand: null, down: false });

/**
 * Calls `step` (which may drive an alarm) until `check` holds, failing after `timeoutMs`; no fixed
 * sleeps, only a short yield between rounds so answers in flight can land.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  step: () => Promise<unknown> = async () => undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await step();
    await scheduler.wait(5);
  }
}

/** Sends one raw command to the gateway (for commands the client lacks, such as PEXPIRETIME). */
export async function command(...args: (string | number)[]): Promise<unknown> {
  const res = await fetch(gateway.url, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.token}` },
    body: JSON.stringify(args),
  });
  return ((await res.json()) as { result: unknown }).result;
}
