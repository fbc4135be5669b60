/** The queue operations over HTTP: what a producer or consumer outside Cloudflare uses. */
import type { HttpTransport } from "./http.ts";
import type { QueueTransport } from "./queue-transport.ts";

function queryString(input: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * A {@link QueueTransport} over HTTP. Contract errors come back as failed results.
 * @example new QueueClient(httpQueueTransport(new HttpTransport({ baseUrl: "http://127.0.0.1:8787", token: "switchyard-dev-token" })))
 */
export function httpQueueTransport(http: HttpTransport): QueueTransport {
  const request = <T>(method: string, path: string, body?: unknown) => http.request<T>(method, path, body);
  const at = (queue: string, rest = "") => `/v1/queues/${encodeURIComponent(queue)}${rest}`;
  const task = (queue: string, id: string, verb = "") =>
    at(queue, `/tasks/${encodeURIComponent(id)}${verb ? `/${verb}` : ""}`);
  const schedule = (queue: string, name: string, verb = "") =>
    at(queue, `/schedules/${encodeURIComponent(name)}${verb ? `/${verb}` : ""}`);
  return {
    enqueue: (queue, input) => request("POST", at(queue, "/tasks"), input),
    flow: (queue, input) => request("POST", at(queue, "/flows"), input),
    lease: (queue, input) => request("POST", at(queue, "/lease"), input),
    ack: (queue, id, input) => request("POST", task(queue, id, "ack"), input),
    ackBatch: (queue, input) => request("POST", at(queue, "/ack"), input),
    nack: (queue, id, input) => request("POST", task(queue, id, "nack"), input),
    extend: (queue, id, input) => request("POST", task(queue, id, "extend"), input),
    progress: (queue, id, input) => request("POST", task(queue, id, "progress"), input),
    logs: (queue, id, input) => request("POST", task(queue, id, "logs"), input),
    promote: (queue, id) => request("POST", task(queue, id, "promote"), {}),
    task: (queue, id) => request("GET", task(queue, id)),
    tasks: (queue, input) => request("GET", at(queue, `/tasks${queryString(input)}`)),
    stats: (queue) => request("GET", at(queue, "/stats")),
    dead: (queue, input) => request("GET", at(queue, `/dead${queryString(input)}`)),
    redrive: (queue, input) => request("POST", at(queue, "/dead/redrive"), input),
    purge: (queue, input) => request("DELETE", at(queue, `/tasks${queryString(input)}`)),
    pause: (queue) => request("POST", at(queue, "/pause")),
    resume: (queue) => request("POST", at(queue, "/resume")),
    deleteQueue: (queue) => request("DELETE", at(queue)),
    setConfig: (queue, input) => request("PUT", at(queue, "/config"), input),
    config: (queue) => request("GET", at(queue, "/config")),
    putSchedule: (queue, name, input) => request("PUT", schedule(queue, name), input),
    schedules: (queue, input) => request("GET", at(queue, `/schedules${queryString(input)}`)),
    schedule: (queue, name) => request("GET", schedule(queue, name)),
    pauseSchedule: (queue, name) => request("POST", schedule(queue, name, "pause")),
    resumeSchedule: (queue, name) => request("POST", schedule(queue, name, "resume")),
    deleteSchedule: (queue, name) => request("DELETE", schedule(queue, name)),
    openConsumer: (queue, query) => http.openSocket(at(queue, `/consume${queryString(query)}`)),
  };
}
