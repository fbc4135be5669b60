/** The global-WebSocket connector of the state client, against a real server that refuses the upgrade. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webSocketConnector } from "../../../shared/client/state/transport.ts";

const server = createServer((_req, res) => res.writeHead(404).end());
// Every upgrade is refused as Switchyard refuses a revoked token's.
server.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"));
let baseUrl = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("webSocketConnector", () => {
  it("answers a refused upgrade as a failed connect, once, and not also as a dropped subscription", async () => {
    const connect = webSocketConnector({ baseUrl, token: "t" });
    const closes: unknown[] = [];
    const result = await connect("/v1/state/ns/subscribe", {
      onMessage: () => {},
      onClose: (close) => closes.push(close),
    });
    expect(result).toMatchObject({ ok: false, error: { code: "unavailable" } });
    expect(closes).toEqual([]);
  });
});
