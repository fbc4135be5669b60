/**
 * Handles: a client bound to one name, as BullMQ's `Queue` is bound to one queue, so that code
 * says `orders.enqueue(task)` and `orders.consume(handler)` instead of repeating the name.
 */

/** The methods `K` of `C`, with their first argument (the name) already given. */
export type Bound<C, K extends keyof C> = {
  [P in K]: C[P] extends (name: string, ...rest: infer A) => infer R ? (...rest: A) => R : never;
};

/**
 * Binds `name` as the first argument of each listed method of `client`.
 * @example const orders = bindName(queueClient, "orders", ["enqueue", "consume", "stats"]);
 */
export function bindName<C extends object, K extends keyof C>(
  client: C,
  name: string,
  methods: readonly K[],
): Bound<C, K> & { readonly name: string } {
  const bound: Record<PropertyKey, unknown> = { name };
  for (const method of methods) {
    const fn = client[method];
    if (typeof fn !== "function") throw new TypeError(`${String(method)} is not a method`);
    bound[method] = (...rest: unknown[]) => fn.call(client, name, ...rest);
  }
  return bound as Bound<C, K> & { readonly name: string };
}
