import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  connectionStringOf,
  DbConfigError,
  loadDbConfig,
  type NodeConfig,
} from "../../../shared/db/config.ts";
import { lsnDiff, lsnReached, parseLsn } from "../../../shared/db/lsn.ts";
import { type NodeView, readCandidates, type Topology } from "../../../shared/db/topology.ts";

const node = (name: string, over: Partial<NodeView>): NodeView => ({
  name,
  region: "weur",
  binding: name.toUpperCase(),
  role: "replica",
  healthy: true,
  streaming: true,
  lagMs: 0,
  fenced: false,
  stale: false,
  failures: 0,
  checkedAt: 1,
  ...over,
});

describe("readCandidates", () => {
  const topology: Topology = {
    primary: "p",
    epoch: 0,
    nodes: [
      node("p", { role: "primary", streaming: undefined }),
      node("near-slow", { region: "enam", lagMs: 900 }),
      node("near-fast", { region: "enam", lagMs: 10 }),
      node("far", { region: "apac", lagMs: 5 }),
      node("down", { healthy: false }),
      node("not-streaming", { streaming: false }),
      node("fenced", { fenced: true }),
      node("unknown-lag", { lagMs: undefined }),
    ],
  };

  it("orders healthy streaming replicas by region preference, then lag", () => {
    expect(readCandidates(topology, { region: "enam" }).map((n) => n.name)).toEqual([
      "near-fast",
      "near-slow",
      "unknown-lag",
      "far",
    ]);
    expect(readCandidates(topology, { region: ["apac", "enam"] }).map((n) => n.name)[0]).toBe("far");
  });

  it("drops replicas over the lag bound or with unknown lag", () => {
    expect(readCandidates(topology, { maxLagMs: 100, region: "enam" }).map((n) => n.name)).toEqual([
      "near-fast",
      "far",
    ]);
    expect(readCandidates(topology, { maxLagMs: 1 })).toEqual([]);
  });
});

describe("LSN arithmetic", () => {
  const lsn = fc
    .bigInt({ min: 0n, max: (1n << 52n) - 1n })
    .map((v) => `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`);

  it("agrees with the byte positions it parses", () => {
    fc.assert(
      fc.property(lsn, lsn, (a, b) => {
        expect(lsnDiff(a, b)).toBe(Number(parseLsn(a) - parseLsn(b)));
        expect(lsnReached(a, b)).toBe(lsnDiff(a, b) >= 0);
      }),
    );
    expect(lsnDiff("1/0", "0/FFFFFFFF")).toBe(1);
    expect(() => parseLsn("nope")).toThrow(RangeError);
  });
});

describe("loadDbConfig", () => {
  const hyperdrive = { connectionString: "postgres://u:p@h:5432/db" };
  const nodes = [
    { name: "pg-1", region: "weur", binding: "PG1", role: "primary" },
    { name: "pg-2", region: "enam", binding: "PG2", role: "replica" },
  ];

  it("accepts JSON text or values, applies defaults and resolves the bindings", () => {
    const config = loadDbConfig({
      DB_NODES: JSON.stringify(nodes),
      DB_HA: '{"failureThreshold":5}',
      PG1: hyperdrive,
      PG2: hyperdrive,
    });
    expect(config?.ha).toMatchObject({
      failureThreshold: 5,
      checkIntervalMs: 5_000,
      maximumLagOnFailover: 1_048_576,
    });
    expect(config && connectionStringOf({ PG1: hyperdrive }, config.nodes[0] as NodeConfig)).toBe(
      hyperdrive.connectionString,
    );
    expect(loadDbConfig({ DB_NODES: nodes, PG1: hyperdrive, PG2: hyperdrive })?.nodes).toHaveLength(2);
    expect(loadDbConfig({})).toBeUndefined();
  });

  it.each([
    ["not JSON", { DB_NODES: "[" }, /not valid JSON/],
    ["two primaries", { DB_NODES: [nodes[0], { ...nodes[1], role: "primary" }] }, /exactly one primary/],
    ["a duplicate name", { DB_NODES: [nodes[0], { ...nodes[1], name: "pg-1" }] }, /duplicate name/],
    [
      "more than 6 nodes",
      { DB_NODES: Array.from({ length: 7 }, (_, i) => ({ ...nodes[1], name: `n${i}`, binding: `B${i}` })) },
      /DB_NODES/,
    ],
    ["a missing binding", { DB_NODES: nodes, PG1: hyperdrive }, /binding PG2/],
    [
      "an unknown DB_HA key",
      { DB_NODES: nodes, PG1: hyperdrive, PG2: hyperdrive, DB_HA: { checkEvery: 1 } },
      /DB_HA/,
    ],
    [
      "a threshold of 0",
      { DB_NODES: nodes, PG1: hyperdrive, PG2: hyperdrive, DB_HA: { failureThreshold: 0 } },
      /failureThreshold/,
    ],
  ])("fails loudly on %s", (_label, env, message) => {
    expect(() => loadDbConfig(env)).toThrow(DbConfigError);
    expect(() => loadDbConfig(env)).toThrow(message);
  });
});
