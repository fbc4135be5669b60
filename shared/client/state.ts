/**
 * The state client for edge apps: get/put/cas/increment/txn on a namespace, `watch(prefix, cb)`
 * that resumes after a dropped connection without gaps, and a read cache that a subscription
 * keeps coherent. Works over HTTP ({@link httpState}) and over a service binding ({@link rpcState}).
 */
export * from "./state/cache.ts";
export * from "./state/client.ts";
export * from "./state/transport.ts";
export type { Watcher, WatcherOptions } from "./state/watcher.ts";
