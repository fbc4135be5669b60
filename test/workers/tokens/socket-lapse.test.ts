/**
 * "A revoked token is refused everywhere within 10 seconds": also on the sockets it opened. The
 * relay checks an open socket's scoped token every TOKEN_RECHECK_MS and closes both sides `1008`
 * once it has expired or been revoked, on each relayed route; a consumer's pushed tasks go back to
 * `ready`. The token clock is moved by hand; the wait is for the close, with a deadline.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { POLICY_VIOLATION } from "../../../durable-objects/logic/socket-strikes.ts";
import type { CloseInfo } from "../../../shared/client/socket-end.ts";
import type { StateApi } from "../../../shared/client/state.ts";
import type { Env } from "../../../shared/env.ts";
import { systemClock } from "../../../shared/resilience/clock.ts";
import { TOKEN_RECHECK_MS } from "../../../workers/http/socket-admission.ts";
import { MAX_AGE_MS, REFRESH_AFTER_MS } from "../../../workers/tokens/revocations.ts";
import { scopedTokenLapsed, useTokenClock } from "../../../workers/tokens/verify.ts";
import { call, unique, within } from "../helpers.ts";
import { RELAYED_ROUTES } from "../relayed-routes.ts";
import { manualTokenClock, mint } from "./helpers.ts";

/** One recheck period, the time the registry takes, and room for a loaded machine. */
const CLOSE_DEADLINE_MS = TOKEN_RECHECK_MS + 3_000;

/** Opens `path` with `?token=`; `closed` resolves with the code the client receives. */
async function open(path: string, token: string) {
  const res = await exports.default.fetch(
    new Request(`http://localhost${path}?token=${encodeURIComponent(token)}`, {
      headers: { Upgrade: "websocket" },
    }),
  );
  const ws = res.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
  ws.accept();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", ({ code, reason }) => resolve({ code, reason })),
  );
  return { ws, closed: () => within(closed, CLOSE_DEADLINE_MS, "the close") };
}

afterEach(() => {
  useTokenClock(systemClock);
  vi.restoreAllMocks();
});

describe.each(RELAYED_ROUTES)("a $name socket opened with a scoped token", ({ path, capability, action }) => {
  it("is closed 1008 once the token is revoked", async () => {
    const target = unique("lapse");
    const { id, token } = await mint({
      scopes: [{ resource: `${capability}:${target}`, actions: [action] }],
    });
    const socket = await open(path(target), token);
    expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    expect(await socket.closed()).toMatchObject({
      code: POLICY_VIOLATION,
      reason: "the token expired or was revoked",
    });
  });

  it("is closed 1008 once the token expires", async () => {
    const clock = manualTokenClock();
    const target = unique("lapse");
    const { token } = await mint({
      scopes: [{ resource: `${capability}:${target}`, actions: [action] }],
      ttlMs: 60_000,
    });
    const socket = await open(path(target), token);
    clock.advance(60_000);
    expect((await socket.closed()).code).toBe(POLICY_VIOLATION);
  });
});

describe("the check of an open socket", () => {
  it("sees a revocation made in another isolate once this isolate's list is due for a refresh", async () => {
    const clock = manualTokenClock();
    const topic = unique("lapse");
    const { id, token } = await mint({ scopes: [{ resource: `topics:${topic}`, actions: ["read"] }] });
    const socket = await open(`/v1/topics/${topic}/subscribe`, token);
    // Revoked in the registry directly, as another isolate would: this isolate's list does not know.
    expect(await env.TOKENS.getByName("registry").revoke(id, clock.now())).toMatchObject({ ok: true });
    clock.advance(REFRESH_AFTER_MS);
    // A request would still be let in from memory here; the socket's check waits for a fresh list.
    expect((await socket.closed()).code).toBe(POLICY_VIOLATION);
  });

  it("closes a state watch held over the service binding for a scoped token, once it is revoked", async () => {
    const ns = unique("lapse");
    const { id, token } = await mint({ scopes: [{ resource: `state:${ns}`, actions: ["read"] }] });
    using target = await exports.SwitchyardRpc.state({ token });
    // The stub's type cannot follow `watch`'s callbacks (see rpcState); the client's type says them.
    const state = target as unknown as StateApi;
    let closed = (_close: CloseInfo) => {};
    const ended = new Promise<CloseInfo>((resolve) => {
      closed = resolve;
    });
    const watch = await state.watch(
      ns,
      {},
      () => {},
      (close) => closed(close),
    );
    expect(watch).toMatchObject({ ok: true });
    expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    expect(await within(ended, CLOSE_DEADLINE_MS, "the watch's close")).toMatchObject({
      code: POLICY_VIOLATION,
    });
  });

  it("gives a consumer's pushed tasks back to ready when it closes the socket", async () => {
    const queue = unique("lapse");
    const { id, token } = await mint({ scopes: [{ resource: `queues:${queue}`, actions: ["consume"] }] });
    const socket = await open(`/v1/queues/${queue}/consume`, token);
    const pushed = new Promise<string>((resolve) =>
      socket.ws.addEventListener("message", ({ data }) => {
        const message = JSON.parse(String(data));
        if (message.type === "tasks") resolve(message.tasks[0].id);
      }),
    );
    const enqueued = await call("POST", `/v1/queues/${queue}/tasks`, { payload: 1 });
    expect(enqueued.status).toBe(201);
    const taskId = await pushed;
    expect((await call("GET", `/v1/queues/${queue}/tasks/${taskId}`)).body.state).toBe("leased");
    expect((await call("DELETE", `/v1/tokens/${id}`)).status).toBe(200);
    expect((await socket.closed()).code).toBe(POLICY_VIOLATION);
    // The object's side closes before the client's: the task is back by the time the client hears.
    expect((await call("GET", `/v1/queues/${queue}/tasks/${taskId}`)).body.state).toBe("ready");
  });
});

describe("an open socket's check when the token registry cannot be read", () => {
  it("keeps the list it holds until that is 10 s old, then throws (the relay closes 1011)", async () => {
    const clock = manualTokenClock();
    // A registry that fails on demand: a fault the real object cannot be made to have.
    const registry = {
      down: false,
      async revokedIds(): Promise<string[]> {
        if (registry.down) throw new Error("registry down");
        return [];
      },
    };
    const env = { TOKENS: { getByName: () => registry } } as unknown as Env;
    const principal = { kind: "scoped" as const, id: "tk_socket", scopes: [], expiresAt: clock.at + 60_000 };
    expect(await scopedTokenLapsed(env, principal)).toBe(false);
    registry.down = true;
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    clock.advance(REFRESH_AFTER_MS);
    expect(await scopedTokenLapsed(env, principal)).toBe(false);
    clock.advance(MAX_AGE_MS - REFRESH_AFTER_MS);
    await expect(scopedTokenLapsed(env, principal)).rejects.toThrow("registry down");
    expect(errors).toHaveBeenCalled();
  });
});
