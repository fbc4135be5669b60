/**
 * shared/client/calls.ts is what scripts/client-calls.ts writes from the declarations as they
 * stand: an operation added, renamed or changed in a table without `npm run generate:calls`
 * fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CALLS_FILE, clientCallsText } from "../../../scripts/client-calls.ts";

describe("the generated client calls", () => {
  it("match the operation tables (else run `npm run generate:calls`)", { timeout: 120_000 }, async () => {
    expect(readFileSync(CALLS_FILE, "utf8")).toBe(await clientCallsText());
  });
});
