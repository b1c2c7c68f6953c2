// The executor's own refusals, typed by what the caller should do (STYLE 4). Cloud faults stay CloudError
// (src/cloud/errors.ts); these are decisions the guardrails made before or instead of calling AWS.

import type { AwsService, RegionName, ZoneName } from '../cloud/types.ts';

/** A write reached the pipeline for a policy in dry run. Stop and report: it is a bug upstream, never retried. */
export class DryRunRefused extends Error {
  readonly operation: string;
  constructor(args: { service: AwsService; operation: string; policy?: string }) {
    super(`dry run refused ${args.service}:${args.operation}${args.policy ? ` for ${args.policy}` : ''}`);
    this.name = 'DryRunRefused';
    this.operation = args.operation;
  }
}

/**
 * PB-3: a zone-targeted write against an impaired zone (or a zone the guard cannot name). Not a failure: the
 * executor records the action as Skipped citing PB-3 and goes on; the planner replans when the zone recovers.
 */
export class ZoneImpairedRefusal extends Error {
  readonly rule = 'PB-3' as const;
  readonly operation: string;
  readonly region: RegionName;
  readonly zone: ZoneName | undefined;
  constructor(args: { operation: string; region: RegionName; zone: ZoneName | undefined }) {
    super(
      args.zone === undefined
        ? `target zone of ${args.operation} unknown: cannot prove it is not impaired`
        : `zone ${args.zone} impaired`,
    );
    this.name = 'ZoneImpairedRefusal';
    this.operation = args.operation;
    this.region = args.region;
    this.zone = args.zone;
  }
}

/**
 * PB-8: the breaker of a service+region for one operation class (reads or writes) is open. Wait `retryAfterMs`,
 * then try again (requeue, do not retry now).
 */
export class CircuitOpenError extends Error {
  readonly rule = 'PB-8' as const;
  readonly service: AwsService;
  readonly region: RegionName;
  readonly operationClass: 'read' | 'write';
  readonly retryAfterMs: number;
  constructor(args: {
    service: AwsService;
    region: RegionName;
    operationClass: 'read' | 'write';
    retryAfterMs: number;
  }) {
    super(
      `circuit open for ${args.service} ${args.operationClass}s in ${args.region}; retry after ${args.retryAfterMs} ms`,
    );
    this.name = 'CircuitOpenError';
    this.service = args.service;
    this.region = args.region;
    this.operationClass = args.operationClass;
    this.retryAfterMs = args.retryAfterMs;
  }
}

/** The executor cannot perform an action as planned (e.g. a weighted record the plan names does not exist). */
export class ActionRejected extends Error {
  readonly rule: string;
  constructor(message: string, rule: string) {
    super(message);
    this.name = 'ActionRejected';
    this.rule = rule;
  }
}

/**
 * One writer: an AWS write refused because this process no longer leads, or its leadership expires within the
 * safety margin (leader-guard.ts). Never retried here; the new leader decides from what it observes.
 */
export class LeadershipExpiredError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LeadershipExpiredError';
  }
}

/**
 * PB-6 (#14): the promotion lock of this failover is held for another replica — another operator running the same
 * policy took it. Not retried: the executor records the promotion as Skipped citing PB-6 with this message (it names
 * the holder), and the planner holds the failover at a PromotionLocked gate instead of sending it again.
 */
export class PromotionLockRefused extends Error {
  readonly rule = 'PB-6' as const;
  readonly region: string;
  constructor(message: string, region: string) {
    super(message);
    this.name = 'PromotionLockRefused';
    this.region = region;
  }
}

/**
 * The promotion was refused before PromoteReadReplica because the lock could not be taken (timeout, throttling, the
 * table's region down, no key): fail closed. A Failed action, retried under the executor's backoff; its message
 * begins with PROMOTION_NOT_SENT so the planner knows the call never went out. `cause` is the lock's error.
 */
export class PromotionNotSent extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PromotionNotSent';
  }
}
