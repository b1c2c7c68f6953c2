// The executor and its guardrails: what the composition root and the simulation import.

export {
  type CallPipeline,
  type CallPipelineDeps,
  createCallPipeline,
} from './call-pipeline.ts';
export {
  type ChangeCoalescer,
  type ChangeCoalescerDeps,
  type ChangeRequest,
  createChangeCoalescer,
} from './change-coalescer.ts';
export {
  type CircuitBreakerOptions,
  type CircuitBreakers,
  createCircuitBreakers,
  DEFAULT_CIRCUIT_BREAKER_OPTIONS,
} from './circuit-breaker.ts';
export { ActionRejected, CircuitOpenError, DryRunRefused, ZoneImpairedRefusal } from './errors.ts';
export {
  createExecutor,
  type ExecuteOptions,
  type ExecutionResult,
  type Executor,
  type ExecutorDeps,
} from './executor.ts';
export {
  bound,
  findEntry,
  MAX_JOURNAL_ENTRIES,
  recordDone,
  recordFailed,
  recordIntent,
  recordSkipped,
} from './journal.ts';
export { createInMemoryJournalStore, type InMemoryJournalStore, type JournalStore } from './journal-store.ts';
export { DEFAULT_SETTLE_OPTIONS, type ExecutorPolicy, type SettleOptions } from './perform-action.ts';
export { createRateLimiter, DEFAULT_RATE_LIMITS, type RateLimiter, type RateLimits } from './rate-limit.ts';
export { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './retry.ts';
export { DEFAULT_TIMEOUT_OPTIONS, type TimeoutOptions } from './timeout.ts';
export { type ActionEvent, ActionEventReason, type ActionMetrics, type ActionResult, type EventSink } from './trail.ts';
export type { CallMeta, CallOutcome } from './types.ts';
export { isZoneTargetedOperation, ZONE_TARGETED_OPERATIONS } from './zone-guard.ts';
