/**
 * `/v1/db` with the default configuration (one node on the dev port, usually not running here):
 * the routes answer in the contract's shapes whether or not a database is up. The behaviour
 * against real Postgres is in test/db.
 */
import { describe, expect, it } from "vitest";
import { call, expectDocumented, expectError } from "./helpers.ts";

describe("/v1/db without a running database", () => {
  it("reports the configured node and whether it is healthy", async () => {
    const res = await call("GET", "/v1/db/status");
    expect(res.status).toBe(200);
    expect(res.body.primary).toBe("pg-1");
    expect(res.body.nodes).toEqual([
      expect.objectContaining({
        name: "pg-1",
        region: "local",
        role: "primary",
        healthy: expect.any(Boolean),
        checkedAt: expect.any(Number),
      }),
    ]);
    const [node] = res.body.nodes;
    if (!node?.healthy) expect(node?.error).toMatch(/^(unreachable|check timed out)$/);
  });

  it("rejects malformed requests with 400 naming the field, and unknown targets with 404", async () => {
    const noReason = await call("POST", "/v1/db/failover", { target: "pg-2" });
    expect(noReason.status).toBe(400);
    expect(noReason.error?.details?.field).toBe("reason");
    const badName = await call("POST", "/v1/db/restore-points", { name: "no spaces" });
    expect(badName.status).toBe(400);
    expect(badName.error?.details?.field).toBe("name");
    const unknown = await call("POST", "/v1/db/failover", { target: "pg-7", reason: "x" });
    expectError(unknown, 404, "not_found");
  });

  it("needs a token and lists the routes in the OpenAPI document", async () => {
    expect((await call("GET", "/v1/db/status", undefined, { token: null })).status).toBe(401);
    await expectDocumented(["/v1/db/status", "/v1/db/failover", "/v1/db/failovers", "/v1/db/restore-points"]);
  });
});
