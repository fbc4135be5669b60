/**
 * An example edge app on Switchyard: takes orders over HTTP, serialises each customer's orders
 * with a lock (fencing token included), counts them in shared state, enqueues them for
 * fulfilment and publishes an event. Its `scheduled` entry consumes the queue.
 */
import { BusClient } from "../../../shared/client/bus.ts";
import { LockClient, rpcLocks } from "../../../shared/client/locks.ts";
import { QueueClient } from "../../../shared/client/queue.ts";
import { rpcState, StateClient } from "../../../shared/client/state.ts";
import type { SwitchyardRpc } from "../../../workers/rpc.ts";

interface Env {
  SWITCHYARD: Service<SwitchyardRpc>;
}

interface Order {
  customer: string;
  items: string[];
  total: number;
}

const ORDERS_QUEUE = "orders";

function clients(env: Env) {
  return {
    locks: new LockClient(rpcLocks(env.SWITCHYARD)),
    state: new StateClient(rpcState(env.SWITCHYARD), "orders"),
    bus: BusClient.binding(env.SWITCHYARD),
    queue: async () => new QueueClient(await env.SWITCHYARD.queues()),
  };
}

function isOrder(body: unknown): body is Order {
  const o = body as Partial<Order> | null;
  return (
    typeof o?.customer === "string" &&
    /^[A-Za-z0-9-]{1,64}$/.test(o.customer) &&
    Array.isArray(o.items) &&
    typeof o.total === "number"
  );
}

async function placeOrder(env: Env, order: Order): Promise<Response> {
  const { locks, state, bus, queue } = clients(env);
  // One order per customer at a time: the count and the enqueue happen under the lock.
  return locks.withLock(`customer-${order.customer}`, async ({ token }) => {
    const count = await state.increment(`count-${order.customer}`);
    const taskId = await (await queue()).enqueue(ORDERS_QUEUE, {
      payload: { ...order, fence: token },
      dedupKey: `${order.customer}-${count}`,
    });
    await bus.publish("orders", { type: "order.created", data: { taskId, customer: order.customer, count } });
    return Response.json({ taskId, customerOrders: count }, { status: 201 });
  });
}

/** Leases what is waiting, marks each order fulfilled in state, and acks it. */
async function fulfil(env: Env): Promise<number> {
  const { state, queue } = clients(env);
  const q = await queue();
  const { tasks } = await q.transport.lease(ORDERS_QUEUE, { max: 100 }).then((r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  });
  for (const task of tasks) {
    await state.put(`fulfilled-${task.id}`, { at: Date.now() });
    await q.transport.ack(ORDERS_QUEUE, task.id, { leaseId: task.leaseId });
  }
  return tasks.length;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/orders") {
      const body = await request.json().catch(() => null);
      if (!isOrder(body))
        return Response.json({ error: "expected {customer, items, total}" }, { status: 400 });
      return placeOrder(env, body);
    }
    const fulfilled = /^\/orders\/(\d+)$/.exec(url.pathname);
    if (request.method === "GET" && fulfilled) {
      const entry = await clients(env).state.get(`fulfilled-${fulfilled[1]}`);
      return Response.json({ taskId: fulfilled[1], fulfilled: entry !== undefined });
    }
    return new Response("not found", { status: 404 });
  },

  async scheduled(_controller, env, ctx): Promise<void> {
    ctx.waitUntil(fulfil(env));
  },
} satisfies ExportedHandler<Env>;
