// The shapes shared by the call pipeline's middleware (call-pipeline.ts) and the executor (executor.ts).
//
// Like the smithy middleware stack, every AWS call goes through one ordered list of named middleware; each one is a
// function from the next handler to a handler. The context carries the call's metadata and the AbortSignal the
// attempt must honour; a middleware that needs a narrower signal (timeout) passes a new context down.

import type { AwsService, RegionName, ZoneName } from '../cloud/types.ts';

export type { Clock } from '../clock.ts';

/** What one AWS call is: enough for every guardrail to decide without looking at the call itself. */
export interface CallMeta {
  service: AwsService;
  /** The AWS API operation name, e.g. `ChangeResourceRecordSets`, `RebootDBInstance`. */
  operation: string;
  region: RegionName;
  /** The zone the call targets, for zone-targeted operations (PB-3 guard, per-zone control-plane signal). */
  zone?: ZoneName;
  /** Changes cloud state (dry-run refusal, policy write budget, longer timeout). */
  write: boolean;
  /**
   * A write that is safe to repeat (UPSERT, EC2 create with a clientToken). An ambiguous failure (`retryable`,
   * `timeout`: the request may have taken effect) of any other write is not retried: a promotion is never issued
   * twice (PB-7). Throttled and busy are retried for every write: AWS refused those before acting.
   */
  idempotent?: boolean;
  /**
   * Made by an action in progress — a write's precondition read or its settle poll (GetChange) — rather than by an
   * observation: not charged to Route 53's read share, so it never queues behind a backlog of observations (PB-8).
   */
  partOfAction?: boolean;
  /** Policy key (`namespace/name`) on whose behalf the call is made: selects the policy's write budget. */
  policy?: string;
  /** The policy's `guardrails.maxWritesPerMinute` (PB-8); no policy budget when undefined. */
  maxWritesPerMinute?: number;
  /**
   * The other policies whose changes this write carries (a Route 53 change batch coalesced from several policies):
   * every attempt spends each one's budget too. Asked before each attempt, since a coalesced batch is known only
   * once it has been taken.
   */
  writeBudgets?: () => readonly WriteBudget[];
  /**
   * A health probe's read (the probe profile): one attempt, no retry — the probe's next round is the retry, and a
   * retried probe would hide the failure it exists to see — and no circuit breaker, whose fail-fast answer is no
   * evidence about the target. Rate limits, observation (the PB-1 error-rate signal) and timeouts apply.
   */
  probe?: boolean;
  /** The policy is in dry run: writes are refused (last line of defence; the executor never gets here). */
  dryRun?: boolean;
  /** The caller's cancellation (shutdown, lost leadership). */
  signal?: AbortSignal;
}

/** One policy's write budget (PB-8): `guardrails.maxWritesPerMinute`, none when undefined. */
export interface WriteBudget {
  policy: string;
  maxWritesPerMinute?: number;
}

export interface CallContext {
  meta: CallMeta;
  /** The signal this attempt must honour (the caller's, narrowed by the timeout middleware). */
  signal: AbortSignal;
  /** 1 for the first attempt; set by the retry middleware. */
  attempt: number;
  /** Set by the circuit breaker: throws if the breaker opened since it admitted this attempt (not its trial). */
  recheckBreaker?: () => void;
  /**
   * Waits for the grants of the attempt's next request (set by the rate limiter; the timeout and observe
   * middleware leave the wait out of their clocks). The innermost handler hands it to `fn`, whose adapter awaits it
   * before every request after the first (CallOptions.nextRequest), so the limit counts requests, not calls.
   */
  nextRequest?: () => Promise<void>;
  /** The call itself; only the innermost handler invokes it. */
  fn: (signal: AbortSignal, nextRequest: () => Promise<void>) => Promise<unknown>;
}

export type CallHandler = (ctx: CallContext) => Promise<unknown>;

export interface Middleware {
  name: string;
  wrap(next: CallHandler): CallHandler;
}

/** One attempt's outcome: the control-plane signal of PB-1 and the per-call metrics are fed from these. */
export interface CallOutcome {
  service: AwsService;
  operation: string;
  region: RegionName;
  zone?: ZoneName;
  policy?: string;
  write: boolean;
  attempt: number;
  ok: boolean;
  latencyMs: number;
  /** CloudError kind, or `aborted` (caller cancelled) / `unknown` (not a CloudError). */
  errorKind?: string;
  errorCode?: string;
  /** When the attempt ended (epoch ms, injected clock). */
  at: number;
}
