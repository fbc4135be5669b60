/**
 * The frames only the Worker's socket relay (workers/http/socket-relay.ts) and an object exchange;
 * a client never sees them, and the relay never forwards a client's frame that looks like them.
 * They pace a replay by what the client's socket holds, which only the relay can see: the object's
 * own socket leads to the relay, which takes every frame at once.
 */

/** The object's marker after each replay step: the relay answers {@link STEP_TAKEN} once the client has taken it. */
export const STEP_SENT = '{"type":"relay.stepSent"}';

/** The relay's answer to {@link STEP_SENT}: the object may send the next step. */
export const STEP_TAKEN = '{"type":"relay.stepTaken"}';

/** The relay answers a step once the client's socket holds at most this many bytes. */
export const CLIENT_HIGH_WATER = 1024 * 1024;
