// Every AWS call the executor makes goes through one ordered stack of named middleware (the smithy
// MiddlewareStack idea): the guardrails live here, once, not in the callers.
//
//   call ─► dry-run ─► zone-guard ─► leader-scope ─► retry ─► circuit-breaker ─► rate-limit ─►
//           (refuse)   (PB-3)        (writes: under   (loop)   (per attempt, PB-8)
//                                     the leadership)
//        ─► leader-guard ─► breaker-recheck ─► observe ─► timeout ─► fn
//           (writes: still   (opened while               (per attempt)
//            leading?)        we waited?)
//
// Why this order:
// - dry-run and zone-guard refuse before anything is spent: no rate-limit grant, no breaker count, no retry of a refusal.
// - retry wraps the per-attempt stages, so every retried attempt spends its rate-limit grants, counts towards the
//   breaker, is observed and has its own timeout (a retry storm stays inside PB-8's budgets). An open breaker
//   mid-loop fails the remaining retries fast (CircuitOpenError is not retryable).
// - the breaker sits outside the rate limiter: failing fast must not wait for (or spend) a grant.
// - leader-scope (when the process has leader election) sits outside the retry loop: a write runs under the
//   leadership term's signal, so losing leadership aborts the attempt in flight and any retry wait at once.
// - breaker-recheck sits after the rate limiter (beside the leader guard, both checks of the moment): an attempt admitted while the breaker was closed may wait
//   seconds for its grant; if the breaker opened meanwhile, it fails fast instead of going out.
// - the leader guard (when the process has leader election) sits right after the rate limiter: a write that waited
//   for a grant, or a retry, is checked against the Lease at the moment it would go out, never earlier.
// - observe sits inside the rate limiter (latency is the service's, not the queue's) and outside the timeout
//   (a hang is recorded as `timeout`).
// - an attempt whose adapter sends several requests (a health check and its tags, a listing page by page) waits for
//   each further request's grant inside the attempt (`nextRequest`, handed to the call): the limit counts requests
//   where they go out. observe and timeout leave those waits out of the latency and the timeout.
//
// One pipeline per process, shared by every policy: its rate limiter and breakers are the shared state PB-8 needs.

import type { Logger } from 'pino';
import {
  breakerRecheckMiddleware,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakers,
  circuitBreakerMiddleware,
  createCircuitBreakers,
} from './circuit-breaker.ts';
import { dryRunMiddleware } from './dry-run.ts';
import { leaderGuardMiddleware, leaderScopeMiddleware } from './leader-guard.ts';
import { observeMiddleware } from './observe.ts';
import { createRateLimiter, type RateLimiter, type RateLimits, rateLimitMiddleware } from './rate-limit.ts';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions, retryMiddleware } from './retry.ts';
import { DEFAULT_TIMEOUT_OPTIONS, type TimeoutOptions, timeoutMiddleware } from './timeout.ts';
import type { CallHandler, CallMeta, CallOutcome, Clock, Middleware } from './types.ts';
import { type ZoneImpairedCheck, zoneGuardMiddleware } from './zone-guard.ts';

export interface CallPipelineDeps {
  clock: Clock;
  logger: Logger;
  /** Health model's verdict (PB-2): is this zone Impaired now? */
  isZoneImpaired: ZoneImpairedCheck;
  /** Sink for every attempt's outcome (control-plane signal, metrics). */
  onCall?: (outcome: CallOutcome) => void;
  /** Source of jitter; Math.random in production, seeded in tests. */
  random?: () => number;
  /** Shared limiter and breakers; created here when not given. */
  rateLimiter?: RateLimiter;
  breakers?: CircuitBreakers;
  rateLimits?: Partial<RateLimits>;
  retry?: Partial<RetryOptions>;
  timeouts?: Partial<TimeoutOptions>;
  circuitBreaker?: Partial<CircuitBreakerOptions>;
  /** Each state change of a circuit breaker the pipeline creates (logged as well), for metrics. */
  onBreakerStateChange?: NonNullable<CircuitBreakerEvents['onStateChange']>;
  /**
   * Until when (clock ms) this process may make AWS writes as leader (Manager.leadershipValidUntil). Without it
   * (the simulation, tests) writes are not checked against a Lease.
   */
  leadershipValidUntil?: () => number;
  /**
   * The current leadership term's signal (Manager.leadershipSignal; aborted when not leading): writes run under it,
   * so they stop the moment leadership ends. Without it (the simulation, tests) writes follow only their caller.
   */
  leadershipSignal?: () => AbortSignal;
}

export interface CallPipeline {
  /**
   * `fn` gets the attempt's signal and `nextRequest`: an adapter method that sends several requests awaits it
   * before each one after the first (pass both on as CallOptions).
   */
  call<T>(meta: CallMeta, fn: (signal: AbortSignal, nextRequest: () => Promise<void>) => Promise<T>): Promise<T>;
  /** Middleware names, outermost first (for docs, logs and tests). */
  readonly stack: readonly string[];
}

/** A context no rate limiter has seen (never in this pipeline: the limiter is always in the stack). */
const noWait = async (): Promise<void> => {};

export function createCallPipeline(deps: CallPipelineDeps): CallPipeline {
  const { clock, logger } = deps;
  const breakers =
    deps.breakers ??
    createCircuitBreakers(clock, deps.circuitBreaker, {
      onStateChange: (state, info) => {
        logger.warn(
          { ...info, state, rule: 'PB-8' },
          `PB-8 circuit breaker for ${info.service} ${info.operationClass}s in ${info.region} moved to ${state}`,
        );
        deps.onBreakerStateChange?.(state, info);
      },
    });
  const middleware: Middleware[] = [
    dryRunMiddleware(),
    zoneGuardMiddleware(deps.isZoneImpaired),
    ...(deps.leadershipSignal ? [leaderScopeMiddleware(deps.leadershipSignal)] : []),
    retryMiddleware(
      clock,
      deps.random ?? Math.random,
      { ...DEFAULT_RETRY_OPTIONS, ...deps.retry },
      {
        onRetry: ({ attempt, delayMs, error }) =>
          logger.debug({ attempt, delayMs, err: error, rule: 'PB-8' }, 'scheduled AWS call retry'),
      },
    ),
    circuitBreakerMiddleware(breakers),
    rateLimitMiddleware(deps.rateLimiter ?? createRateLimiter(clock, deps.rateLimits)),
    ...(deps.leadershipValidUntil ? [leaderGuardMiddleware(clock, deps.leadershipValidUntil)] : []),
    breakerRecheckMiddleware(),
    observeMiddleware(clock, logger, deps.onCall ?? (() => {})),
    timeoutMiddleware(clock, {
      ...DEFAULT_TIMEOUT_OPTIONS,
      ...deps.timeouts,
      perOperation: { ...DEFAULT_TIMEOUT_OPTIONS.perOperation, ...deps.timeouts?.perOperation },
    }),
  ];
  const innermost: CallHandler = (ctx) => ctx.fn(ctx.signal, ctx.nextRequest ?? noWait);
  const handler = middleware.reduceRight<CallHandler>((next, m) => m.wrap(next), innermost);
  const neverAborted = new AbortController().signal;

  return {
    stack: middleware.map((m) => m.name),
    async call<T>(meta: CallMeta, fn: (signal: AbortSignal, nextRequest: () => Promise<void>) => Promise<T>) {
      return (await handler({ meta, signal: meta.signal ?? neverAborted, attempt: 1, fn })) as T;
    },
  };
}
