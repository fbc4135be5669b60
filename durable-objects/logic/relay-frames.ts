/**
 * The frames only the Worker's socket relay (workers/http/socket-relay.ts) and an object exchange;
 * a client never sees them, and the relay never forwards a client's frame that looks like them.
 * They pace a replay by what the client's socket holds, which only the relay can see: the object's
 * own socket leads to the relay, which takes every frame at once. And they pace what the relay
 * forwards by what the object has taken (workers/http/forward-window.ts).
 */

/** The object's marker after each replay step: the relay answers {@link STEP_TAKEN} once the client has taken it. */
export const STEP_SENT = '{"type":"relay.stepSent"}';

/** The relay's answer to {@link STEP_SENT}: the object may send the next step. */
export const STEP_TAKEN = '{"type":"relay.stepTaken"}';

/** The relay answers a step once the client's socket holds at most this many bytes. */
export const CLIENT_HIGH_WATER = 1024 * 1024;

/**
 * The object's receipt for a forwarded client frame that has no answer of its own (a topic's ack):
 * the relay may forward another.
 */
export const FRAME_TAKEN = '{"type":"relay.frameTaken"}';
