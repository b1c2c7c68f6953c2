// One writer, checked at the last moment (DESIGN "Leader election"): right before any AWS write attempt goes out —
// after its rate-limit wait, so a long queue cannot carry a stale leader's write past its Lease — the guard asks
// whether this process still leads with a safety margin left. A deposed or paused leader (a long GC pause, SIGSTOP,
// a partitioned node) whose leadership ran out while a write waited, retried or sat in a coalesced batch refuses it
// instead of racing the new leader. Reads are never refused: a follower keeps observing.

import { LeadershipExpiredError } from './errors.ts';
import type { Clock, Middleware } from './types.ts';

/** Writes stop this long before leadership would expire: the time one attempt needs to reach AWS. */
export const LEADERSHIP_WRITE_MARGIN_MS = 2_000;

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
      const until = validUntil();
      const now = clock.now();
      if (now + marginMs > until) {
        return Promise.reject(
          new LeadershipExpiredError(
            `${ctx.meta.service} ${ctx.meta.operation} refused: ${until === 0 ? 'this process does not lead' : `its leadership is valid only until ${new Date(until).toISOString()}, less than ${marginMs} ms from now`}; the leader makes AWS writes`,
          ),
        );
      }
      return next(ctx);
    },
  };
}
