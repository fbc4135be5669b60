/**
 * Resilience policies for Workers and Node (web-standard APIs only): retry with backoff and
 * jitter, timeouts (fixed, partial-result, adaptive), circuit breakers, bulkheads, and `wrap` to
 * compose them. Every time- or chance-driven part takes a `Clock` and a `RandomSource`.
 */
export { type AdaptiveTimeoutOptions, AdaptiveTimeoutPolicy, adaptiveTimeout } from "./adaptive-timeout.ts";
export {
  type BackoffKind,
  type BackoffPolicy,
  backoffDelay,
  baseDelay,
  type Jitter,
  type RandomSource,
} from "./backoff.ts";
export {
  type Admission,
  Breaker,
  type BreakerConfig,
  type BreakerCounters,
  type BreakerSnapshot,
  type CircuitState,
  type CircuitStateName,
  type StateChange,
  type TransitionReason,
} from "./breaker.ts";
export {
  BreakerClient,
  type BreakerDecision,
  type BreakerEndpoint,
  type ReportedOutcome,
} from "./breaker-client.ts";
export { BulkheadPolicy, bulkhead } from "./bulkhead.ts";
export { type CircuitBreakerOptions, CircuitBreakerPolicy, circuitBreaker } from "./circuit-breaker.ts";
export {
  type Clock,
  ManualClock,
  sequence,
  sleep,
  systemClock,
  systemRandom,
  type TimerHandle,
} from "./clock.ts";
export { BrokenCircuitError, BulkheadRejectedError, TimeoutError } from "./errors.ts";
export type { ExecuteContext, Policy, Task } from "./policy.ts";
export type { ErrorClass, ErrorFilter } from "./predicates.ts";
export {
  type AttemptFailure,
  type Fallback,
  type RetryEvent,
  type RetryExhausted,
  type RetryOptions,
  RetryPolicy,
  retry,
} from "./retry.ts";
export { type SharedBreakerOptions, SharedBreakerPolicy, sharedBreaker } from "./shared-breaker.ts";
export {
  type PartialContext,
  type PartialOutcome,
  type TimeoutOptions,
  TimeoutPolicy,
  timeout,
  timeoutPartial,
} from "./timeout.ts";
export { type FallbackOf, wrap } from "./wrap.ts";
