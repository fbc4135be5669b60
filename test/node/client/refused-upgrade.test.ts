/**
 * Clients on a global `WebSocket` (browsers, Node 22), against a real server that refuses every
 * upgrade: a refused upgrade says nothing of why, so the client asks the same URL over plain HTTP,
 * where the token is checked first. `401`/`403` there ends the subscription; anything else is
 * worth another try.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BusClient } from "../../../shared/client/bus.ts";
import { webSocketConnector } from "../../../shared/client/state/transport.ts";
import type { ApiError } from "../../../shared/errors.ts";

/** What the server answers a plain GET with, and how many upgrades it refused. */
const seen = { plainStatus: 401, upgrades: 0 };
const server = createServer((_req, res) => {
  const error = seen.plainStatus === 401 ? { code: "unauthorized", message: "token revoked" } : undefined;
  res.writeHead(seen.plainStatus, { "content-type": "application/json" });
  res.end(
    JSON.stringify(error ? { error } : { error: { code: "invalid_request", message: "not an upgrade" } }),
  );
});
server.on("upgrade", (_req, socket) => {
  seen.upgrades++;
  socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
});
let baseUrl = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(() => {
  seen.upgrades = 0;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("a refused upgrade through a global WebSocket", () => {
  it("state: fails the connect once, with the token's refusal, and not also as a dropped subscription", async () => {
    seen.plainStatus = 401;
    const connect = webSocketConnector({ baseUrl, token: "t" });
    const closes: unknown[] = [];
    const result = await connect("/v1/state/ns/subscribe", {
      onMessage: () => {},
      onClose: (close) => closes.push(close),
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unauthorized", message: "token revoked" } });
    expect(closes).toEqual([]);
  });

  it("state: answers unavailable (worth another try) when the token is not the reason", async () => {
    seen.plainStatus = 400;
    const result = await webSocketConnector({ baseUrl, token: "t" })("/v1/state/ns/subscribe", {
      onMessage: () => {},
      onClose: () => {},
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
  });

  it("bus: ends the subscription with onEnd, after one upgrade", async () => {
    seen.plainStatus = 401;
    const ended = new Promise<ApiError>((resolve) => {
      BusClient.http({ baseUrl, token: "t" }).subscribe("orders", () => {}, { onEnd: resolve });
    });
    expect((await ended).code).toBe("unauthorized");
    expect(seen.upgrades).toBe(1);
  });
});
