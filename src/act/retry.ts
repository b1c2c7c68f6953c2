// Middleware 3 of 7 (PB-8): retry only what retrying can fix, slowly. p-retry runs the attempt loop (attempt
// count, abort checks, `shouldRetry`); the delays are ours:
//
// - Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): delay = random() × min(cap, base × 2^n).
//   p-retry's `randomize` multiplies by 1–2 instead, which keeps retries of many callers in lockstep.
// - Throttled and busy (PriorRequestNotComplete, InvalidDBInstanceState) start from longer bases: the service
//   answered and told us to slow down or that the resource is still working on an earlier request.
// - The wait happens on the injected clock (p-retry's own waits use real timers and performance.now(), which would
//   break the simulation's virtual time): p-retry runs with `minTimeout: 0` (no timer of its own), and our
//   `shouldRetry` sleeps the jittered delay on the clock, honouring the AbortSignal. The total deadline is checked
//   on the same clock before each wait (p-retry's `maxRetryTime` would use real time).
//
// Only CloudError.retryable errors are retried; refusals (PB-3, dry run), an open circuit and terminal errors pass
// straight through. A write that is not idempotent is retried only when AWS refused it before acting (throttled,
// busy): after a 5xx or a timeout it may have taken effect, and the executor's next observation decides.

import pRetry from 'p-retry';
import { type CloudErrorKind, isCloudError } from '../cloud/errors.ts';
import type { Clock, Middleware } from './types.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  maxAttempts: number;
  /** No retry starts after this long since the first attempt. Default 60 s. */
  deadlineMs: number;
  /** Base delay by error kind (the first retry's cap). */
  baseDelayMs: Record<'retryable' | 'timeout' | 'throttled' | 'busy', number>;
  /** Cap of the exponential term. Default 20 s. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  maxAttempts: 4,
  deadlineMs: 60_000,
  baseDelayMs: { retryable: 200, timeout: 500, throttled: 1_000, busy: 2_000 },
  maxDelayMs: 20_000,
};

/**
 * Full-jitter delay before retry number `retry` (1 for the first retry): uniform in [0, min(cap, base × 2^(retry-1))).
 */
export function fullJitterDelayMs(
  kind: CloudErrorKind,
  retry: number,
  options: RetryOptions,
  random: () => number,
): number {
  const base =
    kind === 'throttled' || kind === 'busy' || kind === 'timeout'
      ? options.baseDelayMs[kind]
      : options.baseDelayMs.retryable;
  const ceiling = Math.min(options.maxDelayMs, base * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryEvents {
  onRetry?(info: { attempt: number; delayMs: number; error: Error }): void;
}

export function retryMiddleware(
  clock: Clock,
  random: () => number,
  options: RetryOptions = DEFAULT_RETRY_OPTIONS,
  events: RetryEvents = {},
): Middleware {
  return {
    name: 'retry',
    wrap: (next) => (ctx) => {
      const startedAt = clock.now();
      return pRetry((attempt) => next({ ...ctx, attempt }), {
        retries: Math.max(0, options.maxAttempts - 1),
        minTimeout: 0, // no p-retry timer: we wait on the injected clock in shouldRetry
        signal: ctx.signal,
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!isCloudError(error) || !error.retryable) return false;
          if (
            ctx.meta.write &&
            ctx.meta.idempotent !== true &&
            (error.kind === 'retryable' || error.kind === 'timeout')
          ) {
            return false;
          }
          const delayMs = fullJitterDelayMs(error.kind, retriesConsumed + 1, options, random);
          if (clock.now() + delayMs - startedAt > options.deadlineMs) return false;
          events.onRetry?.({ attempt: retriesConsumed + 1, delayMs, error });
          await clock.sleep(delayMs, ctx.signal);
          return true;
        },
      });
    },
  };
}
