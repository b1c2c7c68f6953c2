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
// The error reported is the first real one: when the attempts end on throttling after an earlier attempt failed
// otherwise (a 500 InternalFailure, a timeout), "Rate exceeded" would hide what actually went wrong — throttling is
// what our own retries ran into — so the call fails with the first real error, naming the throttling after it
// (`firstRealError`). Kind, code and operation stay the first real error's; `cause` is the last attempt's error.
//
// Only CloudError.retryable errors are retried; refusals (PB-3, dry run), an open circuit and terminal errors pass
// straight through. A write that is not idempotent is retried only when AWS refused it before acting (throttled,
// busy): after a 5xx or a timeout it may have taken effect, and the executor's next observation decides.

import pRetry from 'p-retry';
import { CloudError, type CloudErrorKind, isCloudError } from '../cloud/errors.ts';
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

/**
 * The error to report for a call whose attempts all failed (`errors`, one per attempt, in order; the last is the
 * one the loop ended on): the last, unless it is throttling and an earlier attempt failed with a different
 * CloudError — then that first real error, its message naming the throttling that followed.
 */
export function firstRealError(errors: readonly unknown[]): unknown {
  const last = errors.at(-1);
  if (!isCloudError(last) || last.kind !== 'throttled') return last;
  const index = errors.findIndex((e) => isCloudError(e) && e.kind !== 'throttled');
  if (index < 0) return last;
  const first = errors[index] as CloudError;
  const throttledAttempts = errors.slice(index + 1).filter((e) => isCloudError(e) && e.kind === 'throttled').length;
  return new CloudError({
    kind: first.kind,
    service: first.service,
    operation: first.operation,
    code: first.code,
    message:
      `${first.code}: ${first.message} (attempt ${index + 1} of ${errors.length}); ` +
      `then throttled on ${throttledAttempts} later attempt${throttledAttempts === 1 ? '' : 's'} ` +
      `(${last.code}: ${last.message})`,
    cause: last,
  });
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
    wrap: (next) => async (ctx) => {
      if (ctx.meta.probe === true) return next(ctx); // the probe profile: one attempt, the next round is the retry
      const startedAt = clock.now();
      const errors: unknown[] = [];
      const attempt = (n: number) =>
        next({ ...ctx, attempt: n }).catch((err: unknown) => {
          errors.push(err);
          throw err;
        });
      const loop = pRetry(attempt, {
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
      try {
        return await loop;
      } catch (err) {
        throw errors.at(-1) === err ? firstRealError(errors) : err;
      }
    },
  };
}
