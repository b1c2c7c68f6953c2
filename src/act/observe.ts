// Middleware 6 of 7: every attempt's outcome goes to the injected `onCall` sink (the PB-1 control-plane signal —
// src/health/api-call-stats.ts — and per-call metrics) and to the log. It sits inside the rate limiter, so latency
// is the service's, not time spent waiting for a token (nor, in an attempt that sends several requests, for the
// next one's), and outside the timeout, so a hang is seen as `timeout`.

import type { Logger } from 'pino';
import { isCloudError } from '../cloud/errors.ts';
import { aroundNextRequest } from './rate-limit.ts';
import type { CallOutcome, Clock, Middleware } from './types.ts';

export function observeMiddleware(clock: Clock, logger: Logger, onCall: (outcome: CallOutcome) => void): Middleware {
  return {
    name: 'observe',
    wrap: (next) => async (ctx) => {
      const { meta } = ctx;
      const startedAt = clock.now();
      const base = {
        service: meta.service,
        operation: meta.operation,
        region: meta.region,
        ...(meta.zone !== undefined && { zone: meta.zone }),
        ...(meta.policy !== undefined && { policy: meta.policy }),
        write: meta.write,
        attempt: ctx.attempt,
      };
      // Time spent waiting for the grants of further requests (an adapter call that sends several) is ours, not
      // the service's: left out of the latency.
      let waitedMs = 0;
      const paced = aroundNextRequest(ctx, async (waitForGrant) => {
        const from = clock.now();
        try {
          await waitForGrant();
        } finally {
          waitedMs += clock.now() - from;
        }
      });
      const latencySince = (at: number) => at - startedAt - waitedMs;
      try {
        const result = await next(paced);
        const at = clock.now();
        onCall({ ...base, ok: true, latencyMs: latencySince(at), at });
        logger.debug({ ...base, latencyMs: latencySince(at) }, 'completed AWS call');
        return result;
      } catch (err) {
        const at = clock.now();
        const errorKind = isCloudError(err) ? err.kind : ctx.signal.aborted ? 'aborted' : 'unknown';
        const outcome: CallOutcome = { ...base, ok: false, latencyMs: latencySince(at), errorKind, at };
        if (isCloudError(err)) outcome.errorCode = err.code;
        onCall(outcome);
        // A typed cloud error is an expected outcome (throttled, timed out, unavailable) the retry middleware
        // handles: its message is enough. Anything else keeps its stack under `err`.
        const logged = isCloudError(err) ? { error: `${err.name}: ${err.message}` } : { err };
        logger.warn(
          { ...base, latencyMs: outcome.latencyMs, errorKind, errorCode: outcome.errorCode, ...logged },
          'AWS call failed',
        );
        throw err;
      }
    },
  };
}
