/**
 * `@switchyard/client`: the Switchyard facade, every capability's client, the resilience policies
 * and webhook signatures, from the same modules the Worker and its tests import (`shared/`), not
 * a copy. Apps that need one capability import its entry point (`@switchyard/client/locks`,
 * `/queue`, `/state`, ...) instead.
 */
export * from "../../../shared/client/bus.ts";
export * from "../../../shared/client/catalog.ts";
export * from "../../../shared/client/handles.ts";
export * from "../../../shared/client/http.ts";
export * from "../../../shared/client/locks.ts";
export * from "../../../shared/client/mirror.ts";
export * from "../../../shared/client/queue.ts";
export * from "../../../shared/client/state.ts";
export * from "../../../shared/client/switchyard.ts";
export * from "../../../shared/client/tokens.ts";
export * from "../../../shared/errors.ts";
export * from "../../../shared/resilience/index.ts";
export * from "../../../shared/webhook-signature.ts";
