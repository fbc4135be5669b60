/**
 * The OpenAPI document says where a token may come as `?token=`: every route that takes it (the
 * WebSocket upgrades, `queryToken` in the declaration) lists it among its query parameters.
 */
import { describe, expect, it } from "vitest";
import type { AnyDeclared } from "../../../workers/declare/table.ts";
import { call } from "../helpers.ts";
import { MOUNTED } from "../operations.ts";

const takingQueryTokens = Object.values(MOUNTED)
  .flatMap((table): AnyDeclared[] => Object.values(table))
  .filter((declared) => "queryToken" in declared.access && declared.access.queryToken)
  .map((declared) => declared.route.operationId);

describe("?token= in the OpenAPI document", () => {
  it("is listed by every route that takes it", async () => {
    expect(takingQueryTokens.sort()).toEqual(["consumeQueue", "subscribeState", "subscribeTopic"]);
    const doc = (await call("GET", "/openapi.json", undefined, { token: null })).body;
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item as object));
    for (const operationId of takingQueryTokens) {
      const operation = operations.find((op) => op.operationId === operationId);
      const names = (operation?.parameters ?? []).map(
        (p: { name: string; in: string }) => `${p.in}:${p.name}`,
      );
      expect(names, operationId).toContain("query:token");
    }
  });
});
