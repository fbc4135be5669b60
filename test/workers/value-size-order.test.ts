/**
 * A value over its size limit answers `413` in the contract's order of checks (API.md 1.1: the
 * body's 413 before its 400, and before a token's 429), on every route that stores a value and
 * through the service binding, although the limit itself is the object's rule.
 */
import { exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_VALUE_BYTES } from "../../shared/schemas/common.ts";
import { MAX_LOG_LINE_BYTES, MAX_PROGRESS_BYTES } from "../../shared/schemas/queue-progress.ts";
import { call, expectError, expectInvalidField, unique } from "./helpers.ts";
import { rateLimited } from "./tokens/helpers.ts";

/** A string value one byte over the 256 KiB limit. */
const big = "x".repeat(MAX_VALUE_BYTES + 1);

/** Each route that stores a value: a body holding one over its limit, and the field the 413 names. */
const ROUTES: ReadonlyArray<[label: string, method: string, path: string, body: object, field: string]> = [
  ["a state value", "PUT", "/v1/state/{n}/k", { value: big }, "value"],
  [
    "a transaction's put, in the branch that would not run",
    "POST",
    "/v1/state/{n}/txn",
    { success: [{ op: "get", key: "k" }], failure: [{ op: "put", key: "k", value: big }] },
    "failure.0.value",
  ],
  ["one task's payload", "POST", "/v1/queues/{n}/tasks", { payload: big }, "payload"],
  [
    "a batch's payload",
    "POST",
    "/v1/queues/{n}/tasks",
    { tasks: [{ payload: 1 }, { payload: big }] },
    "tasks.1.payload",
  ],
  [
    "a nested flow child's payload",
    "POST",
    "/v1/queues/{n}/flows",
    { parent: { payload: 1 }, children: [{ payload: 1, children: [{ payload: big }] }] },
    "children.0.children.0.payload",
  ],
  [
    "a flow batch's parent payload",
    "POST",
    "/v1/queues/{n}/flows",
    {
      flows: [
        { parent: { payload: 1 }, children: [{ payload: 1 }] },
        { parent: { payload: big }, children: [] },
      ],
    },
    "flows.1.parent.payload",
  ],
  [
    "a schedule's task payload",
    "PUT",
    "/v1/queues/{n}/schedules/s",
    { everyMs: 60_000, task: { payload: big } },
    "task.payload",
  ],
  ["an ack's result", "POST", "/v1/queues/{n}/tasks/1/ack", { leaseId: "l", result: big }, "result"],
  [
    "a progress value over 4 KiB",
    "POST",
    "/v1/queues/{n}/tasks/1/progress",
    { leaseId: "l", progress: "x".repeat(MAX_PROGRESS_BYTES) },
    "progress",
  ],
  [
    "a log line over 1 KiB",
    "POST",
    "/v1/queues/{n}/tasks/1/logs",
    { leaseId: "l", lines: ["ok", "x".repeat(MAX_LOG_LINE_BYTES + 1)] },
    "lines.1",
  ],
  ["an event's data", "POST", "/v1/topics/{n}/events", { type: "a", data: big }, "data"],
  [
    "a batch's event data",
    "POST",
    "/v1/topics/{n}/events",
    { events: [{ type: "a", data: big }] },
    "events.0.data",
  ],
];

const at = (path: string, name: string) => path.replace("{n}", name);

describe("a value over its limit is 413 before the body's other faults (400)", () => {
  it.each(ROUTES)("%s", async (_label, method, path, body, field) => {
    const res = await call(method, at(path, unique("v")), { ...body, bogus: 1 });
    expectError(res, 413, "payload_too_large");
    expect(res.error?.details?.field).toBe(field);
  });

  it("and before a header's fault, but after the path's", async () => {
    const ns = unique("v");
    const badIfMatch = await call(
      "PUT",
      `/v1/state/${ns}/k`,
      { value: big },
      { headers: { "if-match": "x" } },
    );
    expectError(badIfMatch, 413, "payload_too_large");
    const longId = "9".repeat(65);
    const res = await call("POST", `/v1/queues/${ns}/tasks/${longId}/ack`, { leaseId: "l", result: big });
    expectInvalidField(res, "id");
  });

  it("leaves a body whose values fit to its 400", async () => {
    const res = await call("POST", `/v1/queues/${unique("v")}/tasks`, { payload: "x", bogus: 1 });
    expectInvalidField(res, "bogus");
  });

  it("answers the same through the service binding", async () => {
    using queues = await exports.SwitchyardRpc.queues();
    expect(await queues.enqueue(unique("v"), { tasks: [{ payload: big }], bogus: 1 })).toMatchObject({
      ok: false,
      error: { code: "payload_too_large", details: { field: "tasks.0.payload" } },
    });
  });

  it("leaves a value with no JSON text (cyclic, over RPC) to validation", async () => {
    using queues = await exports.SwitchyardRpc.queues();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const invalid = { ok: false, error: { code: "invalid_request" } };
    const queue = unique("v");
    expect(await queues.enqueue(queue, { tasks: [{ payload: cyclic }], bogus: 1 })).toMatchObject(invalid);
    expect(await queues.progress(queue, "1", { leaseId: "l", progress: cyclic, bogus: 1 })).toMatchObject(
      invalid,
    );
  });
});

describe("a value over its limit is 413 before the operation's own refusals (404, 409, 412)", () => {
  it("on a task's ack, progress and logs, whatever the task and lease", async () => {
    const queue = unique("v");
    expect((await call("POST", `/v1/queues/${queue}/tasks`, { payload: 1 })).status).toBe(201);
    const leased = await call("POST", `/v1/queues/${queue}/lease`, {});
    const id = leased.body.tasks[0]?.id as string;
    const bodies: Array<[string, object]> = [
      ["ack", { result: big }],
      ["progress", { progress: "x".repeat(MAX_PROGRESS_BYTES) }],
      ["logs", { lines: ["x".repeat(MAX_LOG_LINE_BYTES + 1)] }],
    ];
    for (const [op, body] of bodies) {
      // No such task (404), and a live task under another lease (409).
      for (const task of ["999", id]) {
        const res = await call("POST", `/v1/queues/${queue}/tasks/${task}/${op}`, {
          leaseId: "other",
          ...body,
        });
        expectError(res, 413, "payload_too_large");
      }
    }
  });

  it("on a state put whose If-Match fails", async () => {
    const res = await call(
      "PUT",
      `/v1/state/${unique("v")}/k`,
      { value: big },
      { headers: { "if-match": '"7"' } },
    );
    expectError(res, 413, "payload_too_large");
  });
});

describe("a value over its limit is 413 before a token's rate limit (429), spending none of it", () => {
  it("over HTTP", async () => {
    const queue = unique("v");
    const token = await rateLimited(`queues:${queue}`, 1, "write");
    const path = `/v1/queues/${queue}/tasks`;
    for (let i = 0; i < 2; i++)
      expectError(await call("POST", path, { payload: big }, { token }), 413, "payload_too_large");
    expect((await call("POST", path, { payload: 1 }, { token })).status).toBe(201);
    expectError(await call("POST", path, { payload: 1 }, { token }), 429, "rate_limited");
    expectError(await call("POST", path, { payload: big }, { token }), 413, "payload_too_large");
  });

  it("through the service binding", async () => {
    const topic = unique("v");
    const token = await rateLimited(`topics:${topic}`, 1, "write");
    using topics = await exports.SwitchyardRpc.topics({ token });
    const tooLarge = { ok: false, error: { code: "payload_too_large", details: { field: "data" } } };
    expect(await topics.publish(topic, { type: "a", data: big })).toMatchObject(tooLarge);
    expect(await topics.publish(topic, { type: "a", data: 1 })).toMatchObject({ ok: true });
    expect(await topics.publish(topic, { type: "a", data: 1 })).toMatchObject({
      ok: false,
      error: { code: "rate_limited" },
    });
    expect(await topics.publish(topic, { type: "a", data: big })).toMatchObject(tooLarge);
  });
});

/**
 * A payload at the edge of the limit, by its description (a failing run prints these, not 256 KiB
 * strings): a string counts without its quotes, `{"s":…}` as its JSON text, the string plus 8.
 */
type Sized = { string: number } | { object: number } | { small: number };
const edgePayload: fc.Arbitrary<Sized> = fc.oneof(
  fc.constantFrom(MAX_VALUE_BYTES, MAX_VALUE_BYTES + 1).map((n) => ({ string: n })),
  fc.constantFrom(MAX_VALUE_BYTES - 8, MAX_VALUE_BYTES - 7).map((n) => ({ object: n - 8 })),
  fc.integer().map((n) => ({ small: n })),
);

function payloadOf(sized: Sized): unknown {
  if ("string" in sized) return "x".repeat(sized.string);
  if ("object" in sized) return { s: "x".repeat(sized.object) };
  return sized.small;
}

/** Replaces every description in `body` (a `{string|object|small}` record) with its payload. */
function built(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(built);
  if (body === null || typeof body !== "object") return body;
  if ("string" in body || "object" in body || "small" in body) return payloadOf(body as Sized);
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, built(v)]));
}

type Node = { payload: Sized; children?: Node[] };
const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.record(
    { payload: edgePayload, children: fc.array(tie("node"), { minLength: 1, maxLength: 2 }) },
    { requiredKeys: ["payload"] },
  ),
}));

/** Bodies under the 1 MiB request limit (at most three payloads near the value limit). */
const fits = (described: object) => JSON.stringify(built(described)).length < 1_000_000;

/**
 * Differential: the object's own answer to a valid body is the oracle. With an unknown field
 * added, the Worker must answer the object's 413 (the same field) before its own 400.
 */
async function sameRefusal(path: (name: string) => string, described: object) {
  const body = built(described) as object;
  const alone = await call("POST", path(unique("p")), body);
  const withFault = await call("POST", path(unique("p")), { ...body, bogus: 1 });
  if (alone.status === 413) {
    expectError(withFault, 413, "payload_too_large");
    expect(withFault.error?.details?.field).toBe(alone.error?.details?.field);
  } else {
    expect(alone.status, alone.text.slice(0, 300)).toBeLessThan(300);
    expectInvalidField(withFault, "bogus");
  }
}
describe("the Worker's 413 is the object's (property)", () => {
  it("for batches of tasks", async () => {
    const batch = fc.array(edgePayload, { minLength: 1, maxLength: 3 }).map((payloads) => ({
      tasks: payloads.map((payload) => ({ payload })),
    }));
    await fc.assert(
      fc.asyncProperty(batch.filter(fits), (body) => sameRefusal((q) => `/v1/queues/${q}/tasks`, body)),
      { numRuns: 20 },
    );
  });

  it("for nested flows", async () => {
    const flow = fc
      .record({
        parent: fc.record({ payload: edgePayload }),
        children: fc.array(node, { minLength: 1, maxLength: 2 }),
      })
      .filter(fits);
    await fc.assert(
      fc.asyncProperty(flow, (body) => sameRefusal((q) => `/v1/queues/${q}/flows`, body)),
      { numRuns: 20 },
    );
  });

  it("for transactions, both branches", async () => {
    const ops = fc.array(
      fc.oneof(
        edgePayload.map((value) => ({ op: "put", key: "k", value })),
        fc.constant({ op: "get", key: "k" }),
      ),
      { maxLength: 2 },
    );
    const txn = fc.record({ success: ops, failure: ops }).filter(fits);
    await fc.assert(
      fc.asyncProperty(txn, (body) => sameRefusal((ns) => `/v1/state/${ns}/txn`, body)),
      { numRuns: 20 },
    );
  });
});
