// Middleware 7 of 7 (innermost, PB-8): a timeout on every attempt. In April 2011 control-plane calls hung rather
// than failed; an attempt that outlives its budget is abandoned: its AbortSignal (linked to the caller's) is
// aborted so the adapter/SDK can drop the request, and the attempt fails with CloudError kind `timeout` at once,
// even if the callee ignores the signal. A cancellation by the caller is passed through as the caller's reason.
// An attempt that sends several requests (a listing page by page) gets the budget afresh for each further request,
// and its waits for their grants (rate-limit.ts) do not count: waiting for our own limit is no hang.

import { CloudError } from '../cloud/errors.ts';
import { aroundNextRequest } from './rate-limit.ts';
import type { CallMeta, Clock, Middleware } from './types.ts';

export interface TimeoutOptions {
  /** Default for reads. 10 s. */
  readMs: number;
  /** Default for writes. 20 s. */
  writeMs: number;
  /** Overrides by `service:Operation`, e.g. `{ 'rds:PromoteReadReplica': 30_000 }`. */
  perOperation: Record<string, number>;
}

export const DEFAULT_TIMEOUT_OPTIONS: TimeoutOptions = { readMs: 10_000, writeMs: 20_000, perOperation: {} };

export function timeoutFor(meta: CallMeta, options: TimeoutOptions): number {
  return options.perOperation[`${meta.service}:${meta.operation}`] ?? (meta.write ? options.writeMs : options.readMs);
}

/** Preallocated: a reasonless abort() builds a DOMException with a stack trace on every call. */
const ATTEMPT_SETTLED = new Error('attempt settled');

export function timeoutMiddleware(clock: Clock, options: TimeoutOptions = DEFAULT_TIMEOUT_OPTIONS): Middleware {
  return {
    name: 'timeout',
    wrap: (next) => async (ctx) => {
      ctx.signal.throwIfAborted();
      const ms = timeoutFor(ctx.meta, options);
      const attempt = new AbortController();
      const onCallerAbort = () => attempt.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onCallerAbort, { once: true });

      // Settles (rejects) as soon as the attempt's signal aborts, whoever aborted it.
      const abandoned = new Promise<never>((_, reject) => {
        attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason), { once: true });
      });
      abandoned.catch(() => {}); // observed through the race below; never an unhandled rejection

      // The budget is per request: an attempt that sends several stops it while it waits for the next request's
      // grant (rate-limit.ts) and starts it afresh when that request goes out. A wait is no hang.
      let settled = false;
      let timer = new AbortController();
      const startTimer = () => {
        if (settled) return;
        timer = new AbortController();
        clock.sleep(ms, timer.signal).then(
          () =>
            attempt.abort(
              new CloudError({
                kind: 'timeout',
                service: ctx.meta.service,
                operation: ctx.meta.operation,
                code: 'CallTimeout',
                message: `${ctx.meta.service}:${ctx.meta.operation} timed out after ${ms} ms`,
              }),
            ),
          () => {}, // the attempt settled (or waits for a grant) and cancelled the timer
        );
      };
      const paced = aroundNextRequest(ctx, async (waitForGrant) => {
        timer.abort(ATTEMPT_SETTLED);
        await waitForGrant();
        startTimer();
      });
      startTimer();

      try {
        return await Promise.race([next({ ...paced, signal: attempt.signal }), abandoned]);
      } finally {
        settled = true;
        timer.abort(ATTEMPT_SETTLED);
        ctx.signal.removeEventListener('abort', onCallerAbort);
      }
    },
  };
}
