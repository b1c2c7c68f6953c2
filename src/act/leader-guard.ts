// One writer, checked at the last moment (DESIGN "Leader election"): right before any AWS write attempt goes out —
// after its rate-limit wait, so a long queue cannot carry a stale leader's write past its Lease, and again after
// the wait for each further request of an attempt that sends several — the guard asks whether this process still
// leads with a safety margin left. A deposed or paused leader (a long GC pause, SIGSTOP,
// a partitioned node) whose leadership ran out while a write waited, retried or sat in a coalesced batch refuses it
// instead of racing the new leader. Reads are never refused: a follower keeps observing.
//
// And writes run under the leadership (leader-scope, outside the retry loop): the moment leadership ends — lost, or
// released at shutdown — an attempt in flight is aborted, a retry's wait ends, and a coalesced batch waiting for its
// grant gives up, instead of following the process's termination signal for up to a retry deadline.

import { LeadershipExpiredError } from './errors.ts';
import { aroundNextRequest } from './rate-limit.ts';
import type { Clock, Middleware } from './types.ts';

/** Writes stop this long before leadership would expire: the time one attempt needs to reach AWS. */
export const LEADERSHIP_WRITE_MARGIN_MS = 2_000;

/**
 * `leadership`: the signal of the current leadership term (Manager.leadershipSignal), aborted when not leading.
 * A write starts only inside a term and runs under its signal; when the term ends first the write fails with
 * LeadershipExpiredError (the caller's own cancellation keeps its reason).
 */
export function leaderScopeMiddleware(leadership: () => AbortSignal): Middleware {
  return {
    name: 'leader-scope',
    wrap: (next) => async (ctx) => {
      if (!ctx.meta.write) return next(ctx);
      const term = leadership();
      if (term.aborted) {
        throw new LeadershipExpiredError(
          `${ctx.meta.service} ${ctx.meta.operation} refused: this process does not lead; the leader makes AWS writes`,
          { cause: term.reason },
        );
      }
      try {
        return await next({ ...ctx, signal: AbortSignal.any([ctx.signal, term]) });
      } catch (err) {
        if (!term.aborted || ctx.signal.aborted) throw err;
        throw new LeadershipExpiredError(
          `${ctx.meta.service} ${ctx.meta.operation} abandoned: leadership ended while it was in flight (attempt ${ctx.attempt}); the new leader decides from what it observes`,
          { cause: err },
        );
      }
    },
  };
}

/** `validUntil`: until when (clock ms) this process may act as leader; 0 when not leading. */
export function leaderGuardMiddleware(
  clock: Clock,
  validUntil: () => number,
  marginMs = LEADERSHIP_WRITE_MARGIN_MS,
): Middleware {
  return {
    name: 'leader-guard',
    wrap: (next) => (ctx) => {
      if (!ctx.meta.write) return next(ctx);
      const refusal = () => {
        const until = validUntil();
        if (clock.now() + marginMs <= until) return undefined;
        return new LeadershipExpiredError(
          `${ctx.meta.service} ${ctx.meta.operation} refused: ${until === 0 ? 'this process does not lead' : `its leadership is valid only until ${new Date(until).toISOString()}, less than ${marginMs} ms from now`}; the leader makes AWS writes`,
        );
      };
      const refused = refusal();
      if (refused) return Promise.reject(refused);
      // A further request of the same write (a health check's tags) waited for its grant as well: checked again.
      return next(
        aroundNextRequest(ctx, async (waitForGrant) => {
          await waitForGrant();
          const late = refusal();
          if (late) throw late;
        }),
      );
    },
  };
}
