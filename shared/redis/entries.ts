/** What a Redis sink writes for an event: a stream entry's fields, or a channel's envelope. */
import type { BusEventValue } from "../schemas/bus.ts";

/** The stream entry of an event: every field a string. */
export function streamFields(event: BusEventValue): string[] {
  return [
    "id",
    event.id,
    "seq",
    String(event.seq),
    "type",
    event.type,
    "priority",
    event.priority,
    "critical",
    event.critical ? "true" : "false",
    "publishedAt",
    String(event.publishedAt),
    "data",
    JSON.stringify(event.data ?? null),
  ];
}

/** The webhook body of an event: what a channel receives. */
export function envelope(event: BusEventValue): string {
  const { id, topic, type, data, seq, priority, publishedAt } = event;
  return JSON.stringify({ id, topic, type, data: data ?? null, seq, priority, publishedAt });
}
