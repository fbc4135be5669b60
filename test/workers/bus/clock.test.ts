/**
 * The topic reads every instant from its clock (`SqlObject.clock`): a test moves time with a
 * `ManualClock` instead of waiting for it.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TopicObject } from "../../../durable-objects/bus/object.ts";
import { ManualClock } from "../../../shared/resilience/clock.ts";
import { call, unique } from "../helpers.ts";
import { publish, topicStub as stub } from "./helpers.ts";

describe("a topic's clock", () => {
  it("stamps events with its time and expires them by it when the alarm rings", async () => {
    const topic = unique("clock");
    await call("PUT", `/v1/topics/${topic}/config`, { retentionMs: 60_000 });
    // A day ahead of the wall clock: no real time could pass for this.
    const clock = new ManualClock(Date.now() + 86_400_000);
    await runInDurableObject(stub(topic), (o: TopicObject) => {
      o.clock = clock;
    });
    const start = clock.now();
    await publish(topic, { events: [{ type: "a" }, { type: "b" }] });
    const events = async () => (await call("GET", `/v1/topics/${topic}/events`)).body.events;
    expect((await events()).map((e: { publishedAt: number }) => e.publishedAt)).toEqual([start, start]);

    // Past the retention time on the clock, the alarm (due then) drops both.
    clock.advance(60_001);
    expect(await runDurableObjectAlarm(stub(topic))).toBe(true);
    expect(await events()).toEqual([]);
  });
});
