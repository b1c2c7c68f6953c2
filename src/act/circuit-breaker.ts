// Middleware 4 of 7 (PB-8): one circuit breaker per service, region AND operation class (reads apart from writes).
// After `failureThreshold` consecutive attempts that failed because the service did not answer (CloudError kind
// `retryable` or `timeout`), the breaker opens and every call of that class to that service+region fails fast with
// a CircuitOpenError carrying `retryAfterMs` — the executor turns it into a requeue instead of piling more requests
// onto a control plane that is down (April 2011). After the cool-off it lets ONE trial call through (half-open):
// success closes it, another such failure re-opens it with a doubled cool-off (capped), so a zone that stays
// impaired for a day is probed less and less often.
//
// Why reads and writes apart: a control plane can fail its writes while its reads answer (on 2021-12-07 Route 53's
// ChangeResourceRecordSets failed for seven hours while ListResourceRecordSets worked). With one breaker per
// service, every successful observation closed the breaker that the failing writes had opened, and the writes
// never stopped. A read answering proves nothing about writes, nor the other way round.
//
// Any other outcome (success, throttled, busy, not-found, terminal) proves the service answered and resets the
// count. A call the caller itself cancelled proves nothing and changes nothing.
//
// The breaker is checked twice: when the call enters (before any rate-limit wait, so failing fast spends no grant)
// and again right before the attempt goes out (`breakerRecheckMiddleware`, after the rate limiter). A write admitted
// while the breaker was closed can wait many seconds for its policy's budget; if the breaker opened meanwhile it
// must not go out, or a queue of admitted writes keeps reaching a failing control plane at the budget's pace with
// the breaker open. Only the half-open trial goes out while the breaker is not closed.
//
// Hand-written rather than cockatiel's CircuitBreakerPolicy: cockatiel reads Date.now() for its half-open timing
// and has no clock injection, so in the simulation's virtual time a breaker would stay open for real seconds.

import { isCloudError } from '../cloud/errors.ts';
import type { AwsService, RegionName } from '../cloud/types.ts';
import { CircuitOpenError } from './errors.ts';
import type { CallMeta, Clock, Middleware } from './types.ts';

/** Reads and writes of one service+region have breakers of their own (see the header). */
export type OperationClass = 'read' | 'write';

export const operationClassOf = (meta: Pick<CallMeta, 'write'>): OperationClass => (meta.write ? 'write' : 'read');

/** What one breaker guards. */
export interface BreakerId {
  service: AwsService;
  region: RegionName;
  operationClass: OperationClass;
}

export interface CircuitBreakerOptions {
  /** Consecutive unanswered attempts that open the breaker. Default 5. */
  failureThreshold: number;
  /** Cool-off before the first half-open trial. Default 30 s. */
  halfOpenAfterMs: number;
  /** Cap of the doubling cool-off. Default 5 min. */
  maxHalfOpenAfterMs: number;
}

export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  failureThreshold: 5,
  halfOpenAfterMs: 30_000,
  maxHalfOpenAfterMs: 300_000,
};

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  /**
   * Runs `fn` if the breaker admits the call. `fn` gets `recheck`, which throws CircuitOpenError if the breaker is
   * no longer closed and this call is not its half-open trial: call it right before the attempt goes out.
   */
  execute<T>(fn: (recheck: () => void) => Promise<T>): Promise<T>;
  state(): CircuitState;
}

export interface CircuitBreakerEvents {
  onStateChange?(state: CircuitState, info: BreakerId & { coolOffMs: number }): void;
}

/** Did the service fail to answer? Only these count towards opening the breaker. */
export function isUnansweredFailure(err: unknown): boolean {
  return isCloudError(err) && (err.kind === 'retryable' || err.kind === 'timeout');
}

export function createCircuitBreaker(
  clock: Clock,
  id: BreakerId,
  options: CircuitBreakerOptions = DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  events: CircuitBreakerEvents = {},
): CircuitBreaker {
  let state: CircuitState = 'closed';
  let consecutiveFailures = 0;
  let openedAt = 0;
  let coolOffMs = options.halfOpenAfterMs;
  let trialInFlight = false;

  function transition(next: CircuitState): void {
    if (next === state) return;
    state = next;
    events.onStateChange?.(next, { ...id, coolOffMs });
  }

  function open(reopened: boolean): void {
    coolOffMs = reopened ? Math.min(options.maxHalfOpenAfterMs, coolOffMs * 2) : options.halfOpenAfterMs;
    openedAt = clock.now();
    consecutiveFailures = 0;
    transition('open');
  }

  function answered(): void {
    consecutiveFailures = 0;
    coolOffMs = options.halfOpenAfterMs;
    transition('closed');
  }

  return {
    async execute(fn) {
      if (state === 'open') {
        const remaining = openedAt + coolOffMs - clock.now();
        if (remaining > 0) throw new CircuitOpenError({ ...id, retryAfterMs: remaining });
        transition('half-open');
      }
      const isTrial = state === 'half-open';
      if (isTrial) {
        // One trial at a time; the others fail fast and come back shortly.
        if (trialInFlight) throw new CircuitOpenError({ ...id, retryAfterMs: Math.min(coolOffMs, 1_000) });
        trialInFlight = true;
      }
      const recheck = () => {
        if (isTrial || state === 'closed') return;
        const remaining = openedAt + coolOffMs - clock.now();
        throw new CircuitOpenError({ ...id, retryAfterMs: remaining > 0 ? remaining : Math.min(coolOffMs, 1_000) });
      };
      try {
        const result = await fn(recheck);
        answered();
        return result;
      } catch (err) {
        if (isUnansweredFailure(err)) {
          if (isTrial) open(true);
          else if (++consecutiveFailures >= options.failureThreshold) open(false);
        } else if (isCloudError(err)) {
          answered();
        }
        throw err;
      } finally {
        if (isTrial) trialInFlight = false;
      }
    },
    state() {
      if (state === 'open' && clock.now() >= openedAt + coolOffMs) return 'half-open';
      return state;
    },
  };
}

/** The breakers of one process, one per service+region+operation class, created on first use. */
export interface CircuitBreakers {
  for(service: AwsService, region: RegionName, operationClass: OperationClass): CircuitBreaker;
}

export function createCircuitBreakers(
  clock: Clock,
  options: Partial<CircuitBreakerOptions> = {},
  events: CircuitBreakerEvents = {},
): CircuitBreakers {
  const resolved = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options };
  const breakers = new Map<string, CircuitBreaker>();
  return {
    for(service, region, operationClass) {
      const key = `${service}/${region}/${operationClass}`;
      let breaker = breakers.get(key);
      if (breaker === undefined) {
        breaker = createCircuitBreaker(clock, { service, region, operationClass }, resolved, events);
        breakers.set(key, breaker);
      }
      return breaker;
    },
  };
}

export function circuitBreakerMiddleware(breakers: CircuitBreakers): Middleware {
  return {
    name: 'circuit-breaker',
    wrap: (next) => (ctx) =>
      ctx.meta.probe === true
        ? next(ctx) // probes see the service as it is, never our fail-fast answer
        : breakers
            .for(ctx.meta.service, ctx.meta.region, operationClassOf(ctx.meta))
            .execute((recheck) => next({ ...ctx, recheckBreaker: recheck })),
  };
}

/** The breaker's second look, right before the attempt goes out (after the rate-limit wait; see the header). */
export function breakerRecheckMiddleware(): Middleware {
  return {
    name: 'breaker-recheck',
    wrap: (next) => (ctx) => {
      ctx.recheckBreaker?.();
      return next(ctx);
    },
  };
}
