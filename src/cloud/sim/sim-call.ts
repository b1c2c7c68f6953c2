// The one path every simulated API call takes: log it, let the service refuse it (Route 53 throttling), apply the
// injected faults (latency on the clock, hang until abort, error dice), then run the operation. Failures leave as
// CloudError with the kinds and codes the AWS adapters produce (src/cloud/aws/errors.ts), so the executor cannot
// tell the simulation from AWS.

import type { Clock } from '../../clock.ts';
import { CloudError } from '../errors.ts';
import type { CallOptions } from '../types.ts';
import type { CallLog, CallScope } from './sim-call-log.ts';
import type { SimFaults } from './sim-faults.ts';

export interface SimCallContext {
  clock: Clock;
  faults: SimFaults;
  log: CallLog;
}

/** What an aborted call throws: the SDK raises AbortError (or TimeoutError), which the adapters map to `timeout`. */
function abortedError(scope: CallScope, signal: AbortSignal, startedAt: number, now: number): CloudError {
  const reason = signal.reason as { name?: unknown } | undefined;
  const code = reason?.name === 'TimeoutError' ? 'TimeoutError' : 'AbortError';
  return new CloudError({
    kind: 'timeout',
    service: scope.service,
    operation: scope.operation,
    code,
    message: `${scope.operation} in ${scope.zone ?? scope.region} was aborted by the caller after ${now - startedAt}ms`,
    cause: signal.reason,
  });
}

/** Waits until the signal aborts (forever without one). */
function hangUntilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export interface SimCallExtras {
  /** Runs before faults; may throw (Route 53's account-wide throttling). */
  preflight?: () => void;
  /** True when the service itself would hang this call (reboot/stop/detach in an impaired zone, 2011). */
  hangs?: () => boolean;
}

export async function simCall<T>(
  ctx: SimCallContext,
  scope: CallScope,
  opts: CallOptions | undefined,
  operation: () => T | Promise<T>,
  extras: SimCallExtras = {},
): Promise<T> {
  const signal = opts?.signal;
  const startedAt = ctx.clock.now();
  const record = ctx.log.start(scope, startedAt);
  try {
    if (signal?.aborted) throw abortedError(scope, signal, startedAt, startedAt);
    extras.preflight?.();
    const verdict = ctx.faults.evaluate(scope);
    if (extras.hangs?.()) verdict.hang = true;
    try {
      if (verdict.latencyMs > 0) await ctx.clock.sleep(verdict.latencyMs, signal);
      if (verdict.hang) {
        ctx.log.markHung(record);
        await hangUntilAborted(signal);
      }
    } catch (err) {
      if (signal?.aborted) throw abortedError(scope, signal, startedAt, ctx.clock.now());
      throw err;
    }
    if (verdict.error) {
      throw new CloudError({ ...verdict.error, service: scope.service, operation: scope.operation });
    }
    const result = await operation();
    ctx.log.finish(record, ctx.clock.now(), 'ok');
    return result;
  } catch (err) {
    if (err instanceof CloudError) {
      ctx.log.finish(record, ctx.clock.now(), err.kind === 'timeout' ? 'aborted' : 'error', err);
      throw err;
    }
    // A bug in the simulation itself: record it, surface it unchanged.
    ctx.log.finish(record, ctx.clock.now(), 'error', { code: 'SimulationError', kind: 'terminal' });
    throw err;
  }
}

/** Shorthand for the errors operations raise themselves (not found, busy, invalid). */
export function simError(scope: CallScope, kind: CloudError['kind'], code: string, message: string): CloudError {
  return new CloudError({ kind, service: scope.service, operation: scope.operation, code, message });
}
